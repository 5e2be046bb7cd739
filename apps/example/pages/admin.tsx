import type { UserDTO } from "gatehouse-auth";
import { type PageAuthProps, withPageAuth } from "gatehouse-auth/next";
import type { ReactNode } from "react";
import { AdminView } from "../components/AdminView";
import { ErrorCard, FORBIDDEN } from "../components/ErrorCard";
import { PageTitle } from "../components/PageTitle";
import { getGatehouse } from "../lib/gatehouse";

type AdminProps = PageAuthProps<{ users: UserDTO[] }>;

export const getServerSideProps = withPageAuth(getGatehouse, { permission: "users:read" }, async () => ({
  props: { users: await getGatehouse().users.list() },
}));

export default function AdminPage(props: AdminProps): ReactNode {
  if (props.forbidden) {
    return (
      <>
        <PageTitle title={FORBIDDEN.title} />
        <ErrorCard notice={FORBIDDEN} />
      </>
    );
  }
  return (
    <>
      <PageTitle title="Users" />
      <AdminView users={props.users} />
    </>
  );
}
