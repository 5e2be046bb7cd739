import type { ApiResult } from "gatehouse-auth/react";
import { callApi, queryOf } from "./api";
import { formatUtc } from "./dates";
import { describeDevice } from "./sessions";

/** Who did it: the user, an administrator, the command line, or Gatehouse itself. */
export type ActorType = "user" | "admin" | "cli" | "system";

/** A security event as the API shows it (`GET /api/auth/events`); `at` is an ISO string. */
export interface PublicEvent {
  id: string;
  at: string;
  type: string;
  outcome: "success" | "failure";
  ip: string | null;
  userAgent: string | null;
  /** Small facts about it, e.g. `{ method: "passkey" }`, never a secret. */
  detail: Record<string, unknown>;
  actor: { type: ActorType; id: string | null };
}

/**
 * Who is viewing the app as the signed-in user, as `GET /api/auth/session` says: `null` for nobody (and no
 * `email` once that administrator's account is gone).
 */
export type Impersonator = { id: string; email: string | null } | null;

/** The signed-in user's own security events, newest first, a page at a time. */
export function listMyEvents(params: {
  cursor: string | null;
  limit?: number;
}): Promise<ApiResult<{ events: PublicEvent[]; nextCursor: string | null }>> {
  return callApi(`/api/auth/events${queryOf(params)}`);
}

/** Whether an administrator is viewing the app as the signed-in user, and who. */
export function readImpersonator(): Promise<ApiResult<{ impersonatedBy?: Impersonator }>> {
  return callApi("/api/auth/session");
}

/** Ends "view as user": the admin's own session comes back. */
export function stopImpersonation(): Promise<ApiResult<{ user: { id: string; email: string } }>> {
  return callApi("/api/auth/impersonation", { method: "DELETE" });
}

/** What each event type is called, in the app's words; a type added later shows as itself. */
const TITLES: Readonly<Record<string, string>> = {
  "user.signup": "Account created",
  "login.success": "Signed in",
  "login.failure": "Failed log-in attempt",
  logout: "Signed out",
  "session.revoke": "A session was signed out",
  "password.change": "Password changed",
  "password.reset": "Password reset",
  "email.verify": "Email address verified",
  "email.change": "Email address changed",
  "mfa.enable": "Two-factor authentication turned on",
  "mfa.disable": "Two-factor authentication turned off",
  "recovery_code.use": "Recovery code used",
  "recovery_codes.regenerate": "New recovery codes made",
  "passkey.add": "Passkey added",
  "passkey.remove": "Passkey removed",
  "oauth.link": "Account connected",
  "oauth.unlink": "Account disconnected",
  "role.change": "Role changed",
  "user.ban": "Account suspended",
  "user.unban": "Suspension lifted",
  "user.delete": "Account deleted",
  "admin.sessions.revoke": "Every session signed out",
  "admin.password_reset": "Password-reset link sent",
  "admin.factors.reset": "Second factors reset",
  "impersonation.start": "An administrator started viewing as this account",
  "impersonation.stop": "An administrator stopped viewing as this account",
  "admin.mail.retry": "A failed email was sent again",
};

/** The event types, in the order the audit log's filter lists them. */
export const EVENT_TYPES: readonly string[] = Object.keys(TITLES);

/** Why a log-in failed (`detail.reason`), said plainly. */
const FAILURE_REASONS: Readonly<Record<string, string>> = {
  wrong_password: "wrong password",
  unknown_account: "no such account",
  rate_limited: "too many attempts",
  unverified: "email not verified",
  mfa_failure: "wrong second-step code",
  banned: "account suspended",
  passkey_failure: "passkey not accepted",
  oauth_failure: "provider sign-in failed",
};

/** How a log-in was made (`detail.method`). */
const METHODS: Readonly<Record<string, string>> = {
  password: "with a password",
  passkey: "with a passkey",
  oauth: "with a connected account",
  totp: "with an authenticator code",
  recovery_code: "with a recovery code",
  external: "by the app's own sign-in",
};

const text = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

/** The event's title, e.g. "Signed in with a passkey" or "Failed log-in attempt: wrong password". */
export function eventTitle(event: Pick<PublicEvent, "type" | "detail">): string {
  const title = TITLES[event.type] ?? event.type;
  const { detail } = event;
  switch (event.type) {
    case "login.success": {
      const method = METHODS[text(detail.method) ?? ""];
      const provider = text(detail.provider);
      if (provider && detail.method === "oauth") return `${title} with ${provider}`;
      return method ? `${title} ${method}` : title;
    }
    case "login.failure": {
      const reason = FAILURE_REASONS[text(detail.reason) ?? ""];
      return reason ? `${title}: ${reason}` : title;
    }
    case "oauth.link":
    case "oauth.unlink": {
      const provider = text(detail.provider);
      return provider ? `${title}: ${provider}` : title;
    }
    case "role.change": {
      const to = text(detail.to) ?? text(detail.role);
      return to ? `${title} to ${to}` : title;
    }
    default:
      return title;
  }
}

/** A type's name for the audit log's filter. */
export function typeLabel(type: string): string {
  return TITLES[type] ?? type;
}

/**
 * Where and when, e.g. "from Chrome on Linux (127.0.0.1) on 2 Jan 2026, 03:04 UTC, by an administrator": the
 * second half of "Signed in from … on …".
 */
export function eventContext(event: Pick<PublicEvent, "at" | "ip" | "userAgent" | "actor">): string {
  const device = event.userAgent ? describeDevice(event.userAgent) : null;
  const where = device && event.ip ? `${device} (${event.ip})` : (device ?? event.ip);
  const by =
    event.actor.type === "admin"
      ? ", by an administrator"
      : event.actor.type === "cli"
        ? ", from the command line"
        : "";
  return `${where ? `from ${where} ` : ""}on ${formatUtc(event.at)}${by}`;
}
