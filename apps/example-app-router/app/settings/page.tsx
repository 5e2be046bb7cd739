import { SettingsView } from "@shared/components/SettingsView";
import { loadSettings } from "@shared/lib/settings";
import type { ReactNode } from "react";
import { ForgetQuery } from "@/components/ForgetQuery";
import { requireUser } from "@/lib/auth";
import { titled } from "@/lib/metadata";
import type { SearchParams } from "@/lib/searchParams";

export const metadata = titled("Settings");

const queryString = (value: string | string[] | undefined): string | null => (typeof value === "string" ? value : null);

export default async function SettingsPage({ searchParams }: { searchParams: SearchParams }): Promise<ReactNode> {
  const { user } = await requireUser("/settings");
  const settings = await loadSettings(user);
  // What the provider's callback said after connecting an account: `?linked=<provider>` or `?error=<code>`.
  const query = await searchParams;
  const linked = queryString(query.linked);
  const error = queryString(query.error);
  return (
    <>
      {/* The callback's message is for this visit: a reload or bookmark of the page does not repeat it. */}
      {(linked !== null || error !== null) && <ForgetQuery path="/settings" />}
      <SettingsView {...settings} linked={linked} error={error} />
    </>
  );
}
