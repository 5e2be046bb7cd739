import type { AdminEvent, AdminUser, AdminUserUpdate } from "../../core/admin.js";
import type { FreshAuthInput } from "../../core/password-check.js";
import { NotFoundError } from "../../errors.js";
import type { ParsedBody } from "../body.js";
import { jsonResponse } from "../response.js";
import type { Route } from "../router.js";
import { limitParam, publicEventJson } from "./events.js";

/** A request body as a core call's input: the core reads only the fields it knows, as own properties. */
function input<T>(body: ParsedBody): T {
  return (body.kind === "empty" ? {} : body.data) as T;
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

/** `AdminUser` of the HTTP contract: times as ISO strings. */
function adminUserJson(user: AdminUser) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    emailVerified: user.emailVerified,
    banned: user.banned,
    bannedAt: iso(user.bannedAt),
    banReason: user.banReason,
    totpEnabled: user.totpEnabled,
    createdAt: user.createdAt.toISOString(),
  };
}

/** `AdminEvent` of the HTTP contract: a user's public event, and whom it is about. */
function adminEventJson(event: AdminEvent) {
  return { ...publicEventJson(event), userId: event.userId, userEmail: event.userEmail };
}

/**
 * The admin console's API, mounted at `/api/admin`: every route needs a signed-in administrator (the core checks
 * the role and refuses an impersonated session), and every write the administrator's password.
 */
export const adminRoutes: readonly Route[] = [
  {
    path: "users",
    method: "GET",
    signedIn: true,
    async handle({ gatehouse, auth, request, renewed }) {
      const { query } = request;
      const page = await gatehouse.admin.searchUsers(auth, {
        query: query.get("query") ?? "",
        cursor: query.get("cursor"),
        limit: limitParam(query),
      });
      return jsonResponse(200, { users: page.items.map(adminUserJson), nextCursor: page.nextCursor }, renewed);
    },
  },
  {
    path: "users/:id",
    method: "GET",
    signedIn: true,
    async handle({ gatehouse, auth, param, renewed }) {
      const detail = await gatehouse.admin.getUser(auth, param);
      if (!detail) throw new NotFoundError("There is no user with this id.");
      const { sessions, identities, factors } = detail;
      return jsonResponse(
        200,
        {
          user: adminUserJson(detail.user),
          sessions: sessions.map((session) => ({
            id: session.id,
            createdAt: session.createdAt.toISOString(),
            lastSeenAt: session.lastSeenAt.toISOString(),
            expiresAt: session.expiresAt.toISOString(),
            userAgent: session.userAgent,
            ip: session.ip,
            impersonatedBy: session.impersonatedBy,
          })),
          identities: identities.map((identity) => ({
            provider: identity.provider,
            email: identity.email,
            createdAt: identity.createdAt.toISOString(),
          })),
          factors: {
            totp: factors.totp,
            passkeys: factors.passkeys.map((passkey) => ({
              id: passkey.id,
              name: passkey.name,
              createdAt: passkey.createdAt.toISOString(),
              lastUsedAt: iso(passkey.lastUsedAt),
            })),
            recoveryCodes: factors.recoveryCodes,
          },
          events: detail.events.map(adminEventJson),
        },
        renewed,
      );
    },
  },
  {
    path: "users/:id",
    method: "PATCH",
    signedIn: true,
    async handle({ gatehouse, auth, param, body, meta, renewed }) {
      const user = await gatehouse.admin.updateUser(auth, param, input<AdminUserUpdate>(body), meta);
      return jsonResponse(200, { user: adminUserJson(user) }, renewed);
    },
  },
  {
    path: "users/:id",
    method: "DELETE",
    signedIn: true,
    async handle({ gatehouse, auth, param, body, meta, renewed }) {
      await gatehouse.admin.deleteUser(auth, param, input<FreshAuthInput>(body), meta);
      return jsonResponse(200, { deleted: true }, renewed);
    },
  },
  {
    path: "users/:id/sessions",
    method: "DELETE",
    signedIn: true,
    async handle({ gatehouse, auth, param, body, meta, renewed }) {
      const { ended } = await gatehouse.admin.revokeSessions(auth, param, input<FreshAuthInput>(body), meta);
      return jsonResponse(200, { ended }, renewed);
    },
  },
  {
    path: "users/:id/password-reset",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, param, body, meta, renewed }) {
      await gatehouse.admin.sendPasswordReset(auth, param, input<FreshAuthInput>(body), meta);
      return jsonResponse(200, { sent: true }, renewed);
    },
  },
  {
    path: "users/:id/factors",
    method: "DELETE",
    signedIn: true,
    async handle({ gatehouse, auth, param, body, meta, renewed }) {
      const removed = await gatehouse.admin.resetFactors(auth, param, input<FreshAuthInput>(body), meta);
      return jsonResponse(
        200,
        { removed: { totp: removed.totp, recoveryCodes: removed.recoveryCodes, passkeys: removed.passkeys } },
        renewed,
      );
    },
  },
  {
    path: "users/:id/impersonate",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, param, body, meta, renewed }) {
      // A session this request rotated or renewed lives on in its new cookie only, which the browser gets from
      // no one else: that is the one to keep aside. First in the header, it is the one read (the first of two
      // cookies of a name wins); the rest of the header (the device cookie) stays as it came.
      const own = renewed[0]?.split(";", 1)[0];
      const asOf = own ? { ...meta, cookieHeader: `${own}; ${meta.cookieHeader ?? ""}` } : meta;
      const started = await gatehouse.admin.impersonate(auth, param, input<FreshAuthInput>(body), asOf);
      // Not the administrator's renewed cookie: the impersonated session's takes its place, and the
      // administrator's own goes aside, in the cookie that `started` sets beside it.
      return jsonResponse(
        200,
        { user: started.user, impersonatedBy: started.impersonatedBy, expiresAt: started.expiresAt.toISOString() },
        started.setCookies,
      );
    },
  },
  {
    path: "audit",
    method: "GET",
    signedIn: true,
    async handle({ gatehouse, auth, request, renewed }) {
      const { query } = request;
      const page = await gatehouse.admin.listEvents(auth, {
        type: query.get("type") ?? "",
        userId: query.get("userId") ?? "",
        cursor: query.get("cursor"),
        limit: limitParam(query),
      });
      return jsonResponse(200, { events: page.items.map(adminEventJson), nextCursor: page.nextCursor }, renewed);
    },
  },
  {
    path: "mail",
    method: "GET",
    signedIn: true,
    async handle({ gatehouse, auth, request, renewed }) {
      const { messages, counts } = await gatehouse.admin.listMail(auth, { status: request.query.get("status") ?? "" });
      return jsonResponse(
        200,
        {
          messages: messages.map((message) => ({
            id: message.id,
            to: message.to,
            subject: message.subject,
            status: message.status,
            attempts: message.attempts,
            lastError: message.lastError,
            createdAt: message.createdAt.toISOString(),
            nextAttemptAt: message.nextAttemptAt.toISOString(),
            sentAt: iso(message.sentAt),
          })),
          counts: { pending: counts.pending, sent: counts.sent, failed: counts.failed },
        },
        renewed,
      );
    },
  },
  {
    path: "mail/:id/retry",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, param, body, meta, renewed }) {
      await gatehouse.admin.retryMail(auth, param, input<FreshAuthInput>(body), meta);
      return jsonResponse(200, { retried: true }, renewed);
    },
  },
];

/** The end of an impersonation, for the impersonated session itself: `DELETE /api/auth/impersonation`. */
export const impersonationRoutes: readonly Route[] = [
  {
    path: "impersonation",
    method: "DELETE",
    signedIn: true,
    async handle({ gatehouse, auth, meta }) {
      // Not the impersonated session's renewed cookie: that session ends here, and the administrator's returns.
      const ended = await gatehouse.admin.stopImpersonation(auth, meta);
      return jsonResponse(200, { user: ended.user }, ended.setCookies);
    },
  },
];
