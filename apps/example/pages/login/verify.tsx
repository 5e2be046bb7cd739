import { safeRedirectPath } from "gatehouse-auth";
import { type ClientSession, verifySession } from "gatehouse-auth/next";
import type { GetServerSideProps } from "next";
import type { ReactNode } from "react";
import { PageTitle } from "../../components/PageTitle";
import { SecondStepCard, type SecondStepCardProps } from "../../components/SecondStepCard";
import { DEFAULT_NEXT, methodsOf } from "../../lib/authPaths";
import { getGatehouse } from "../../lib/gatehouse";

interface VerifyProps extends SecondStepCardProps {
  session: ClientSession;
}

export const getServerSideProps: GetServerSideProps<VerifyProps> = async ({ req, res, query }) => {
  const next = safeRedirectPath(query.next, DEFAULT_NEXT);
  const auth = await verifySession(getGatehouse, req, res);
  if (auth) return { redirect: { destination: next, permanent: false } };
  return {
    props: {
      session: { user: null },
      next,
      error: typeof query.error === "string" ? query.error : null,
      methods: methodsOf(query.methods),
      use: query.use === "recovery" ? "recovery" : "totp",
    },
  };
};

/**
 * The second step of a log-in whose password was right: a code from the authenticator app, a recovery
 * code, or a passkey. The codes work as a plain form post too; the API redirects back here on failure, to
 * `next` on success, and to the log-in page when the five minutes of the pending log-in are over.
 */
export default function VerifyPage({ next, error, methods, use }: VerifyProps): ReactNode {
  return (
    <>
      <PageTitle title="Confirm it's you" />
      <SecondStepCard next={next} error={error} methods={methods} use={use} />
    </>
  );
}
