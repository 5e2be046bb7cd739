import type { SessionSummary } from "gatehouse-auth";
import { formatUtc } from "./dates";

/** One session as the pages show it (dates preformatted on the server, so hydration sees the same text). */
export interface SessionRow {
  id: string;
  current: boolean;
  device: string;
  ip: string | null;
  lastSeen: string;
  created: string;
}

/** A short, human name for a browser from its user agent; the full string is not worth showing. */
export function describeDevice(userAgent: string | null): string {
  if (!userAgent) return "Unknown device";
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Chrome\//.test(userAgent)
      ? "Chrome"
      : /Firefox\//.test(userAgent)
        ? "Firefox"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : userAgent.split(/[ /]/, 1)[0];
  const system = /Android/.test(userAgent)
    ? "Android"
    : /iPhone|iPad/.test(userAgent)
      ? "iOS"
      : /Windows/.test(userAgent)
        ? "Windows"
        : /Mac OS X/.test(userAgent)
          ? "macOS"
          : /Linux/.test(userAgent)
            ? "Linux"
            : null;
  return system ? `${browser} on ${system}` : `${browser}`;
}

/** The user's live sessions, newest activity first, with the one making this request marked `current`. */
export function toSessionRows(sessions: readonly SessionSummary[], currentId: string): SessionRow[] {
  return sessions.map((s) => ({
    id: s.id,
    current: s.id === currentId,
    device: describeDevice(s.userAgent),
    ip: s.ip,
    lastSeen: formatUtc(s.lastSeenAt),
    created: formatUtc(s.createdAt),
  }));
}
