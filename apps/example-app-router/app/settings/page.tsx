import { AccountSettings } from "@shared/components/AccountSettings";
import { ConnectedAccounts } from "@shared/components/ConnectedAccounts";
import { EmailSettings } from "@shared/components/EmailSettings";
import { PasskeySettings } from "@shared/components/PasskeySettings";
import { TwoFactorSettings } from "@shared/components/TwoFactorSettings";
import { getGatehouse } from "@shared/lib/gatehouse";
import Link from "next/link";
import type { ReactNode } from "react";
import { ForgetQuery } from "@/components/ForgetQuery";
import { requireUser } from "@/lib/auth";
import { titled } from "@/lib/metadata";
import type { SearchParams } from "@/lib/searchParams";

export const metadata = titled("Settings");

const queryString = (value: string | string[] | undefined): string | null => (typeof value === "string" ? value : null);

/**
 * Email, two-factor authentication, passkeys, connected accounts, password and account deletion: each change
 * to how the account signs in asks for the current password (or, without one, a recent log-in). The cards
 * call the auth API with JavaScript.
 */
export default async function SettingsPage({ searchParams }: { searchParams: SearchParams }): Promise<ReactNode> {
  const { user } = await requireUser("/settings");
  const gatehouse = getGatehouse();
  const [mfa, passkeys, identities, hasPassword] = await Promise.all([
    gatehouse.mfaStatus(user.id),
    gatehouse.listPasskeys(user.id),
    gatehouse.listIdentities(user.id),
    gatehouse.hasPassword(user.id),
  ]);
  const providers = gatehouse.oauthProviders();
  // What the provider's callback said after connecting an account: `?linked=<provider>` or `?error=<code>`.
  const query = await searchParams;
  const linked = queryString(query.linked);
  const error = queryString(query.error);
  return (
    <>
      {/* The callback's message is for this visit: a reload or bookmark of the page does not repeat it. */}
      {(linked !== null || error !== null) && <ForgetQuery path="/settings" />}
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
          {/* Dates as ISO strings: props cross to the client as JSON. */}
          <PasskeySettings
            passkeys={passkeys.map((p) => ({
              id: p.id,
              name: p.name,
              createdAt: p.createdAt.toISOString(),
              lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
            }))}
          />
          {(providers.length > 0 || identities.length > 0) && (
            <ConnectedAccounts
              providers={providers}
              identities={identities.map((i) => ({
                provider: i.provider,
                email: i.email,
                createdAt: i.createdAt.toISOString(),
              }))}
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
