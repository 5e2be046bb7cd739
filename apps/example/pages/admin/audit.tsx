import { type PageAuthProps, withPageAuth } from "gatehouse-auth/next";
import type { ReactNode } from "react";
import { AuditLogView } from "../../components/AuditLogView";
import { ErrorCard, FORBIDDEN } from "../../components/ErrorCard";
import { PageTitle } from "../../components/PageTitle";
import { ADMIN_ROLE, queryValue } from "../../lib/adminPages";
import { getGatehouse } from "../../lib/gatehouse";

type AuditProps = PageAuthProps<{ type: string; userId: string }>;

export const getServerSideProps = withPageAuth(getGatehouse, { role: ADMIN_ROLE }, async ({ query }) => ({
  props: { type: queryValue(query.type, 64), userId: queryValue(query.userId, 64) },
}));

/** The whole audit log, filtered by the address's `type` and `userId`. */
export default function AuditPage(props: AuditProps): ReactNode {
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
      <PageTitle title="Audit log" />
      <AuditLogView type={props.type} userId={props.userId} />
    </>
  );
}
