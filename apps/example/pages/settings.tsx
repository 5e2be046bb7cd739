import type { UserDTO } from "gatehouse-auth";
import { withPageAuth } from "gatehouse-auth/next";
import type { MfaStatus, PasskeySummary } from "gatehouse-auth/react";
import type { ReactNode } from "react";
import { AccountSettings } from "../components/AccountSettings";
import { EmailSettings } from "../components/EmailSettings";
import { PageTitle } from "../components/PageTitle";
import { PasskeySettings } from "../components/PasskeySettings";
import { TwoFactorSettings } from "../components/TwoFactorSettings";
import { devOutboxOpenTo } from "../lib/devOutbox";
import { getGatehouse } from "../lib/gatehouse";

type SettingsProps = {
  user: UserDTO;
  mfa: MfaStatus;
  /** Dates as ISO strings: props travel as JSON. */
  passkeys: PasskeySummary[];
  devOutbox: boolean;
};

export const getServerSideProps = withPageAuth<SettingsProps>(getGatehouse, {}, async ({ req }, { user }) => {
  const gatehouse = getGatehouse();
  const [mfa, passkeys] = await Promise.all([gatehouse.mfaStatus(user.id), gatehouse.listPasskeys(user.id)]);
  return {
    props: {
      user,
      mfa,
      passkeys: passkeys.map((p) => ({
        id: p.id,
        name: p.name,
        createdAt: p.createdAt.toISOString(),
        lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
      })),
      devOutbox: devOutboxOpenTo(req),
    },
  };
});

/**
 * Email, two-factor authentication, passkeys, password and account deletion: each change to how the account
 * signs in asks for the current password.
 */
export default function SettingsPage({ user, mfa, passkeys }: SettingsProps): ReactNode {
  return (
    <>
      <PageTitle title="Settings" />
      <div className="page-header">
        <h1>Settings</h1>
        <p className="lead">Each change to how you log in asks for your current password.</p>
      </div>
      <div className="page-grid">
        <div className="stack">
          <EmailSettings email={user.email} verified={user.emailVerified} />
          <TwoFactorSettings email={user.email} status={mfa} />
        </div>
        <div className="stack">
          <PasskeySettings passkeys={passkeys} />
          <AccountSettings />
        </div>
      </div>
    </>
  );
}
