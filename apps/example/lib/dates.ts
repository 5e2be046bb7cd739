const UTC_FORMAT = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

/**
 * A date as the pages show it, e.g. "2 Jan 2026, 03:04 UTC": in UTC, so the server and the browser write the
 * very same text (no hydration mismatch), whatever their time zones.
 */
export function formatUtc(date: Date | string): string {
  return `${UTC_FORMAT.format(new Date(date))} UTC`;
}
