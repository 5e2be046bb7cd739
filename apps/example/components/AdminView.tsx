import type { UserDTO } from "gatehouse-auth";
import type { ReactNode } from "react";
import { Detail, DisplayName, RoleBadge, VerifiedBadge } from "./UserFacts";

/** Wide screens: one row per user, every column in view. */
function UserTable({ users }: { users: UserDTO[] }): ReactNode {
  return (
    <div className="table-wrap user-table">
      <table aria-labelledby="users-heading">
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">ID</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id}>
              <td className="cell-strong">
                {user.email} <VerifiedBadge verified={user.emailVerified} />
              </td>
              <td>
                <DisplayName name={user.name} />
              </td>
              <td>
                <RoleBadge role={user.role} />
              </td>
              <td>
                <code>{user.id}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Narrow screens: a card per user, so no column hides behind a sideways scroll. */
function UserCards({ users }: { users: UserDTO[] }): ReactNode {
  return (
    <ul className="user-cards" aria-labelledby="users-heading">
      {users.map((user) => (
        <li key={user.id} className="user-card">
          <p className="user-card__email">{user.email}</p>
          <dl className="user-card__details">
            <Detail label="Name">
              <DisplayName name={user.name} />
            </Detail>
            <Detail label="Role">
              <RoleBadge role={user.role} />
            </Detail>
            <Detail label="Status">
              <VerifiedBadge verified={user.emailVerified} />
            </Detail>
            <Detail label="ID">
              <code>{user.id}</code>
            </Detail>
          </dl>
        </li>
      ))}
    </ul>
  );
}

/** The admin page of both example apps: every account. Who may see it (`users:read`) is each router's check. */
export function AdminView({
  users,
}: {
  /** Every registered account. */
  users: UserDTO[];
}): ReactNode {
  return (
    <>
      <div className="page-header">
        <h1>Users</h1>
        <p className="lead">
          Every account registered in this app. Change a role with <code>gatehouse users set-role</code>.
        </p>
      </div>
      <section aria-labelledby="users-heading">
        <h2 id="users-heading" className="section-title">
          {users.length === 1 ? "1 registered user" : `${users.length} registered users`}
        </h2>
        {/* Both are rendered; CSS shows one (the other is display: none, so hidden from screen readers too). */}
        <UserTable users={users} />
        <UserCards users={users} />
      </section>
    </>
  );
}
