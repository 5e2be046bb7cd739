import type { UserDTO } from "gatehouse-auth";
import { type PageAuthProps, withPageAuth } from "gatehouse-auth/next";
import Link from "next/link";
import type { ReactNode } from "react";
import { PageTitle } from "../components/PageTitle";
import { getGatehouse } from "../lib/gatehouse";

type AdminProps = PageAuthProps<{ users: UserDTO[] }>;

export const getServerSideProps = withPageAuth(getGatehouse, { permission: "users:read" }, async () => ({
  props: { users: await getGatehouse().users.list() },
}));

function Forbidden(): ReactNode {
  return (
    <>
      <PageTitle title="Admins only" />
      <div className="card card--notice">
        <p className="eyebrow">403 — Admins only</p>
        <h1>Admins only</h1>
        <p>Your account does not have permission to see the list of users.</p>
        <p>
          <Link href="/dashboard">Back to your dashboard</Link>
        </p>
      </div>
    </>
  );
}

function UserTable({ users }: { users: UserDTO[] }): ReactNode {
  return (
    // A focusable, labelled region, so keyboard users can scroll the table sideways on narrow screens.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1)
    <section className="table-wrap" aria-labelledby="users-caption" tabIndex={0}>
      <table>
        <caption id="users-caption">
          {users.length === 1 ? "1 registered user" : `${users.length} registered users`}
        </caption>
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
              <td className="cell-wrap cell-strong">{user.email}</td>
              <td className="cell-wrap">{user.name ?? <span className="muted">Not set</span>}</td>
              <td>
                <span className="badge">{user.role}</span>
              </td>
              <td>
                <code>{user.id}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export default function AdminPage(props: AdminProps): ReactNode {
  if (props.forbidden) return <Forbidden />;
  return (
    <>
      <PageTitle title="Users" />
      <div className="page-header">
        <h1>Users</h1>
        <p className="lead">
          Every account registered in this app. Change a role with <code>gatehouse users set-role</code>.
        </p>
      </div>
      <UserTable users={props.users} />
    </>
  );
}
