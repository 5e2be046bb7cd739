import { type PageAuthProps, withPageAuth } from "gatehouse-auth/next";
import type { ReactNode } from "react";
import { AdminView } from "../components/AdminView";
import { ErrorCard, FORBIDDEN } from "../components/ErrorCard";
import { PageTitle } from "../components/PageTitle";
import { ADMIN_ROLE, queryValue } from "../lib/adminPages";
import { getGatehouse } from "../lib/gatehouse";

type AdminProps = PageAuthProps<{ query: string; deleted: string | null }>;

export const getServerSideProps = withPageAuth(getGatehouse, { role: ADMIN_ROLE }, async ({ query }) => ({
  props: { query: queryValue(query.query), deleted: queryValue(query.deleted) || null },
}));

/** The admin console: search the users. A signed-in user who is not an admin gets the 403 card. */
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
      <PageTitle title={props.query ? `Users matching “${props.query}”` : "Users"} />
      <AdminView query={props.query} deleted={props.deleted} />
    </>
  );
}
