import type { UserDTO } from "gatehouse-auth";
import type { SettingsViewProps } from "../components/SettingsView";
import { getGatehouse } from "./gatehouse";

/**
 * What the settings page shows of the account, as each app's page loads it for `SettingsView`. Dates become
 * ISO strings: the Pages Router's props, and a Server Component's props for a Client Component, travel as JSON.
 */
export async function loadSettings(user: UserDTO): Promise<Omit<SettingsViewProps, "linked" | "error">> {
  const gatehouse = getGatehouse();
  const [mfa, passkeys, identities, hasPassword] = await Promise.all([
    gatehouse.mfaStatus(user.id),
    gatehouse.listPasskeys(user.id),
    gatehouse.listIdentities(user.id),
    gatehouse.hasPassword(user.id),
  ]);
  return {
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
  };
}
