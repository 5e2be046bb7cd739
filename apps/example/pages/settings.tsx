import type { UserDTO } from "gatehouse-auth";
import { withPageAuth } from "gatehouse-auth/next";
import type { IdentitySummary, MfaStatus, OAuthProviderSummary, PasskeySummary } from "gatehouse-auth/react";
import Link from "next/link";
import { useRouter } from "next/router";
import { type ReactNode, useEffect } from "react";
import { AccountSettings } from "../components/AccountSettings";
import { ConnectedAccounts } from "../components/ConnectedAccounts";
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
  /** The enabled sign-in providers, and the user's accounts at them. */
  providers: OAuthProviderSummary[];
  identities: IdentitySummary[];
  /** False for an account made by logging in with a provider, until it sets a password. */
  hasPassword: boolean;
  /** What the provider's callback said after connecting an account: `?linked=<provider>` or `?error=<code>`. */
  linked: string | null;
  error: string | null;
  devOutbox: boolean;
};

const queryString = (value: string | string[] | undefined): string | null => (typeof value === "string" ? value : null);

export const getServerSideProps = withPageAuth<SettingsProps>(getGatehouse, {}, async ({ req, query }, { user }) => {
  const gatehouse = getGatehouse();
  const [mfa, passkeys, identities, hasPassword] = await Promise.all([
    gatehouse.mfaStatus(user.id),
    gatehouse.listPasskeys(user.id),
    gatehouse.listIdentities(user.id),
    gatehouse.hasPassword(user.id),
  ]);
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
      providers: gatehouse.oauthProviders(),
      identities: identities.map((i) => ({
        provider: i.provider,
        email: i.email,
        createdAt: i.createdAt.toISOString(),
      })),
      hasPassword,
      linked: queryString(query.linked),
      error: queryString(query.error),
      devOutbox: devOutboxOpenTo(req),
    },
  };
});

/**
 * Email, two-factor authentication, passkeys, connected accounts, password and account deletion: each change
 * to how the account signs in asks for the current password (or, without one, a recent log-in).
 */
export default function SettingsPage({
  user,
  mfa,
  passkeys,
  providers,
  identities,
  hasPassword,
  linked,
  error,
}: SettingsProps): ReactNode {
  const router = useRouter();
  // The callback's message is for this visit: a reload or bookmark of the page does not repeat it.
  useEffect(() => {
    if (router.query.linked !== undefined || router.query.error !== undefined) {
      void router.replace("/settings", undefined, { shallow: true });
    }
  }, [router]);
  return (
    <>
      <PageTitle title="Settings" />
      <div className="page-header">
        <h1>Settings</h1>
        {hasPassword ? (
          <p className="lead">Each change to how you log in asks for your current password.</p>
        ) : (
          <p className="lead">
            Your account has no password yet. <Link href="/forgot-password">Set one</Link> to change your email or add a
            second factor.
          </p>
        )}
      </div>
      <div className="page-grid">
        <div className="stack">
          <EmailSettings email={user.email} verified={user.emailVerified} />
          <TwoFactorSettings email={user.email} status={mfa} />
        </div>
        <div className="stack">
          <PasskeySettings passkeys={passkeys} />
          {(providers.length > 0 || identities.length > 0) && (
            <ConnectedAccounts
              providers={providers}
              identities={identities}
              hasPassword={hasPassword}
              linked={linked}
              error={error}
            />
          )}
          <AccountSettings />
        </div>
      </div>
    </>
  );
}
