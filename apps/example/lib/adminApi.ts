import type { ApiResult } from "gatehouse-auth/react";
import type { PublicEvent } from "./activity";
import { callApi, queryOf } from "./api";

/** The admin API's base path: a second router beside `/api/auth`, mounted by each app. */
const ADMIN = "/api/admin";

/** A user as the admin API shows them (`GET /api/admin/users`); dates are ISO strings. */
export interface AdminUser {
  id: string;
  email: string;
  name: string | null;
  role: string;
  emailVerified: boolean;
  banned: boolean;
  bannedAt: string | null;
  banReason: string | null;
  totpEnabled: boolean;
  createdAt: string;
}

/** An event of the whole audit log: a {@link PublicEvent} and whom it is about. */
export interface AdminEvent extends PublicEvent {
  userId: string | null;
  userEmail: string | null;
}

/** One of a user's live sessions, as an admin sees it. */
export interface AdminSession {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  /** The administrator viewing the app as the user in this session, or `null` for the user's own. */
  impersonatedBy: string | { id: string; email: string } | null;
}

/** Everything the user's page shows: `GET /api/admin/users/:id`. */
export interface AdminUserDetail {
  user: AdminUser;
  sessions: AdminSession[];
  identities: { provider: string; email: string | null; createdAt: string }[];
  factors: {
    totp: boolean;
    passkeys: { id: string; name: string; createdAt: string; lastUsedAt: string | null }[];
    /** How many unused recovery codes are left. */
    recoveryCodes: number;
  };
  events: AdminEvent[];
}

/** Where a message of the mail outbox is: waiting (or retrying), delivered, or given up on. */
export type MailStatus = "pending" | "sent" | "failed";

/** A message of the durable mail outbox: `GET /api/admin/mail`. Its body is never shown to admins. */
export interface MailMessage {
  id: string;
  to: string;
  subject: string;
  status: MailStatus;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string | null;
  sentAt: string | null;
}

/** A page of a list, and the cursor of the next one (`null`: this is the last). */
type Page<Key extends string, Item> = Record<Key, Item[]> & { nextCursor: string | null };

/** The admin's password, which every write of the admin API asks for again (fresh authentication). */
interface Confirmation {
  password: string;
}

/** What the admin may change of a user with `PATCH /api/admin/users/:id`: one at a time. */
type UserChange = { role: string } | { banned: true; reason?: string } | { banned: false };

const userPath = (id: string) => `${ADMIN}/users/${encodeURIComponent(id)}`;

/** Users whose email or name contains `query`, a page at a time. */
export function searchUsers(params: {
  query: string;
  cursor: string | null;
  limit?: number;
}): Promise<ApiResult<Page<"users", AdminUser>>> {
  return callApi(`${ADMIN}/users${queryOf(params)}`);
}

/** A user with their sessions, identities, second factors and recent events. */
export function getUserDetail(id: string): Promise<ApiResult<AdminUserDetail>> {
  return callApi(userPath(id));
}

/** Changes a user's role, or bans or unbans them (a ban ends every session). */
export function updateUser(id: string, change: UserChange & Confirmation): Promise<ApiResult<{ user: AdminUser }>> {
  return callApi(userPath(id), { method: "PATCH", body: change });
}

/** Ends every session of a user. */
export function endUserSessions(id: string, confirm: Confirmation): Promise<ApiResult<{ ended: number }>> {
  return callApi(`${userPath(id)}/sessions`, { method: "DELETE", body: confirm });
}

/** Sends the user a password-reset link. */
export function sendPasswordReset(id: string, confirm: Confirmation): Promise<ApiResult<{ sent: true }>> {
  return callApi(`${userPath(id)}/password-reset`, { method: "POST", body: confirm });
}

/** Removes every second factor of a user: the authenticator app, recovery codes and passkeys. */
export function resetFactors(
  id: string,
  confirm: Confirmation,
): Promise<ApiResult<{ removed: { totp: boolean; recoveryCodes: number; passkeys: number } }>> {
  return callApi(`${userPath(id)}/factors`, { method: "DELETE", body: confirm });
}

/** Deletes a user and everything of theirs but their audit events. */
export function deleteUser(id: string, confirm: Confirmation): Promise<ApiResult<{ deleted: true }>> {
  return callApi(userPath(id), { method: "DELETE", body: confirm });
}

/**
 * Starts viewing the app as the user: the answer's cookie is the user's session (30 minutes at most), and the
 * admin's own is kept aside until `DELETE /api/auth/impersonation`.
 */
export function impersonate(
  id: string,
  confirm: Confirmation,
): Promise<ApiResult<{ impersonatedBy: { id: string; email: string }; expiresAt: string }>> {
  return callApi(`${userPath(id)}/impersonate`, { method: "POST", body: confirm });
}

/** The whole audit log, newest first, optionally of one type or one user. */
export function listAudit(params: {
  type: string;
  userId: string;
  cursor: string | null;
  limit?: number;
}): Promise<ApiResult<Page<"events", AdminEvent>>> {
  return callApi(`${ADMIN}/audit${queryOf(params)}`);
}

/** The mail outbox's messages (optionally of one status) and how many there are of each status. */
export function listMail(params: {
  status: MailStatus | "";
}): Promise<ApiResult<{ messages: MailMessage[]; counts: Record<MailStatus, number> }>> {
  return callApi(`${ADMIN}/mail${queryOf(params)}`);
}

/** Sends a failed message again. */
export function retryMail(id: string, confirm: Confirmation): Promise<ApiResult<{ retried: true }>> {
  return callApi(`${ADMIN}/mail/${encodeURIComponent(id)}/retry`, { method: "POST", body: confirm });
}
