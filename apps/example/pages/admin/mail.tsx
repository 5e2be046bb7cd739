import { type PageAuthProps, withPageAuth } from "gatehouse-auth/next";
import type { ReactNode } from "react";
import { ErrorCard, FORBIDDEN } from "../../components/ErrorCard";
import { MailView } from "../../components/MailView";
import { PageTitle } from "../../components/PageTitle";
import type { MailStatus } from "../../lib/adminApi";
import { ADMIN_ROLE, mailStatusOf } from "../../lib/adminPages";
import { getGatehouse } from "../../lib/gatehouse";

type MailProps = PageAuthProps<{ status: MailStatus | "" }>;

export const getServerSideProps = withPageAuth(getGatehouse, { role: ADMIN_ROLE }, async ({ query }) => ({
  props: { status: mailStatusOf(query.status) },
}));

/** The mail outbox: what waits, went or failed, by the address's `status`. */
export default function MailPage(props: MailProps): ReactNode {
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
      <PageTitle title="Mail" />
      <MailView status={props.status} />
    </>
  );
}
