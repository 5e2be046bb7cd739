import type { UserDTO } from "gatehouse-auth";
import type { IdentitySummary, MfaStatus, OAuthProviderSummary, PasskeySummary } from "gatehouse-auth/react";
import Link from "next/link";
import type { ReactNode } from "react";
import { AccountSettings } from "./AccountSettings";
import { ConnectedAccounts } from "./ConnectedAccounts";
import { EmailSettings } from "./EmailSettings";
import { PasskeySettings } from "./PasskeySettings";
import { SecurityActivity } from "./SecurityActivity";
import { TwoFactorSettings } from "./TwoFactorSettings";

/**
 * What the settings page shows: plain data, which the Pages Router passes as JSON props. A type alias, not an
 * interface: withPageAuth wants props assignable to `Record<string, unknown>`.
 */
export type SettingsViewProps = {
  user: UserDTO;
  mfa: MfaStatus;
  /** Dates as ISO strings (see `loadSettings`). */
  passkeys: PasskeySummary[];
  /** The enabled sign-in providers, and the user's accounts at them. */
  providers: OAuthProviderSummary[];
  identities: IdentitySummary[];
  /** False for an account made by logging in with a provider, until it sets a password. */
  hasPassword: boolean;
  /** What the provider's callback said after connecting an account: `?linked=<provider>` or `?error=<code>`. */
  linked: string | null;
  error: string | null;
};

/**
 * The settings page of both example apps: email, two-factor authentication, passkeys, connected accounts,
 * password, account deletion, and the account's recent security activity. Each change to how the account
 * signs in asks for the current password (or, without one, a recent log-in); the cards call the auth API with
 * JavaScript. Taking the callback's one-visit query out of the address bar is each router's business.
 */
export function SettingsView({
  user,
  mfa,
  passkeys,
  providers,
  identities,
  hasPassword,
  linked,
  error,
}: SettingsViewProps): ReactNode {
  return (
    <>
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
      <div className="page-section">
        <SecurityActivity />
      </div>
    </>
  );
}
