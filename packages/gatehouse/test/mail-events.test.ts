/**
 * The events of the email flows, over HTTP with a real SMTP server, read raw from the SQLite file: a password
 * reset (on confirm), a verified address and an email change are each recorded with the change, by the user,
 * with nothing secret in them; their notices are written with them. An impersonated session cannot change the
 * address.
 */
import { afterAll, describe, expect, it } from "vitest";
import { toUserDTO } from "../src/core/dto.js";
import type { UserRecord } from "../src/stores/types.js";
import { PASSWORD } from "./support/credentials.js";
import { apiRequest, signUpViaApi, uniqueEmails, useTestServer } from "./support/http-server.js";
import { nthMailTo, rawEmailTables, smtpMailerFor, tokenFromLink } from "./support/raw-email.js";
import { startSmtpServer } from "./support/smtp.js";
import { querySqliteFile, rawUserByEmail } from "./support/temp-sqlite.js";

const smtp = await startSmtpServer();
afterAll(() => smtp.close());

const NEW_PASSWORD = "a brand new passphrase";
const USER_AGENT = "mail-events-test/1.0";

describe("events of the email flows", () => {
  const app = useTestServer("database", { email: { mailer: smtpMailerFor(smtp) } });
  const uniqueEmail = uniqueEmails("events", "database");

  const events = (userId: string) =>
    querySqliteFile(
      app.dbFile,
      (db) =>
        db.prepare("SELECT * FROM gatehouse_audit WHERE user_id = ? ORDER BY at, id").all(userId) as Array<
          Record<string, unknown>
        >,
    );
  const post = (route: string, json: unknown, cookie?: string) =>
    apiRequest(app, route, { json, headers: { "User-Agent": USER_AGENT }, ...(cookie && { cookie }) });

  it("email.verify, email.change and password.reset: by the user, with the request's address, nothing secret", async () => {
    const { email, cookie } = await signUpViaApi(app, uniqueEmail());
    const id = rawUserByEmail(app.dbFile, email)?.id as string;
    const verifyToken = tokenFromLink(await nthMailTo(smtp, email, 1), app.origin, "/verify-email");
    expect((await post("/api/auth/verify-email", { token: verifyToken })).status).toBe(200);

    const newEmail = uniqueEmail();
    expect((await post("/api/auth/email-change", { email: newEmail, password: PASSWORD }, cookie)).status).toBe(202);
    const changeToken = tokenFromLink(await nthMailTo(smtp, newEmail, 1), app.origin, "/verify-email");
    expect((await post("/api/auth/verify-email", { token: changeToken })).status).toBe(200);
    // The old address is told, by mail written with the change.
    expect((await nthMailTo(smtp, email, 3)).subject).toMatch(/address was changed/i);

    expect((await post("/api/auth/password-reset/request", { email: newEmail })).status).toBe(202);
    const resetToken = tokenFromLink(await nthMailTo(smtp, newEmail, 2), app.origin, "/reset-password");
    expect((await post("/api/auth/password-reset/confirm", { token: resetToken, password: NEW_PASSWORD })).status).toBe(
      200,
    );
    expect((await nthMailTo(smtp, newEmail, 3)).subject).toMatch(/password was changed/i);

    // By type: the server's clock is frozen, so they all have the same time.
    const recorded = events(id)
      .filter((event) => ["email.verify", "email.change", "password.reset"].includes(String(event.type)))
      .sort((a, b) => String(a.type).localeCompare(String(b.type)));
    expect(recorded.map((event) => [event.type, event.user_email])).toEqual([
      ["email.change", newEmail],
      ["email.verify", email],
      ["password.reset", newEmail],
    ]);
    for (const event of recorded) {
      expect(event).toMatchObject({
        outcome: "success",
        actor_type: "user",
        actor_id: id,
        ip: "127.0.0.1",
        user_agent: USER_AGENT,
      });
    }
    expect(JSON.parse(String(recorded[0]?.detail))).toEqual({ from: email, to: newEmail });
    const text = JSON.stringify(events(id));
    for (const secret of [PASSWORD, NEW_PASSWORD, verifyToken, changeToken, resetToken])
      expect(text).not.toContain(secret);
  });

  it("an impersonated session cannot ask to move the account elsewhere: 403 impersonation_forbidden, nothing queued", async () => {
    const email = uniqueEmail();
    await app.gatehouse.users.create({ email, password: PASSWORD });
    const user = (await app.store.getUserByEmail(email)) as UserRecord;
    // An administrator who exists: an impersonation of anyone else's ends at its next check.
    const admin = await app.gatehouse.users.create({ email: uniqueEmail(), password: PASSWORD, role: "admin" });
    // The session an administrator's "view as user" makes: the user's, marked with the administrator's id.
    const now = new Date(app.startedAt);
    const session = {
      id: `impersonated-${user.id}`,
      userId: user.id,
      secretHash: "0".repeat(64),
      userVersion: user.sessionVersion,
      revocationEpoch: user.revocationEpoch,
      createdAt: now,
      expiresAt: new Date(app.startedAt + 30 * 60_000),
      lastSeenAt: now,
      userAgent: null,
      ip: null,
      impersonatedBy: admin.id,
      impersonatorEpoch: 0,
    };
    await app.store.createSession(session);
    const before = rawEmailTables(app.dbFile);
    const auth = {
      user: toUserDTO(user),
      session: {
        id: session.id,
        strategy: "database" as const,
        createdAt: now,
        expiresAt: session.expiresAt,
        impersonatedBy: admin.id,
      },
    };
    await expect(
      app.gatehouse.requestEmailChange(auth, { email: uniqueEmail(), password: PASSWORD }),
    ).rejects.toMatchObject({ code: "impersonation_forbidden" });
    expect(rawEmailTables(app.dbFile)).toEqual(before);
  });
});
