import { type PageAuthProps, withPageAuth } from "gatehouse-auth/next";
import type { ReactNode } from "react";
import { AdminUserView } from "../../../components/AdminUserView";
import { ErrorCard, FORBIDDEN } from "../../../components/ErrorCard";
import { PageTitle } from "../../../components/PageTitle";
import { ADMIN_ROLE, queryValue, ROLES } from "../../../lib/adminPages";
import { getGatehouse } from "../../../lib/gatehouse";

type UserProps = PageAuthProps<{ userId: string; adminId: string; roles: string[] }>;

export const getServerSideProps = withPageAuth(getGatehouse, { role: ADMIN_ROLE }, async ({ params }, { user }) => ({
  props: { userId: queryValue(params?.id, 64), adminId: user.id, roles: ROLES },
}));

/** One user in the admin console: their account, sessions, sign-in methods and events, and the admin's actions. */
export default function AdminUserPage(props: UserProps): ReactNode {
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
      <PageTitle title="User" />
      <AdminUserView userId={props.userId} adminId={props.adminId} roles={props.roles} />
    </>
  );
}
