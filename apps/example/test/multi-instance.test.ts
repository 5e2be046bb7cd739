import { randomBytes } from "node:crypto";
import http from "node:http";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPostgresDatabase,
  createRedisPrefix,
  REDIS_URL,
  requireService,
} from "../../../packages/gatehouse/test/support/services";
import { type RunningApp, startApp } from "./support/app";
import { createClient, PASSWORD, uniqueEmail } from "./support/http";
import { createSharedClient } from "./support/shared-client";

// Two `next start` processes behind an imaginary load balancer: the same PostgreSQL database (users), the
// same Redis prefix (sessions) and the same GATEHOUSE_SECRET. Whatever one instance does to a session or a
// user, the other must see at its next request.

const hasPostgres = await requireService("postgres");
const hasRedis = await requireService("redis");

type SessionEntry = { id: string; current: boolean; createdAt: string; lastSeenAt: string; expiresAt: string };

describe.skipIf(!hasPostgres || !hasRedis).each(["database", "stateless"] as const)(
  "two instances on one PostgreSQL + Redis (%s sessions)",
  (strategy) => {
    let database: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
    let redisPrefix: ReturnType<typeof createRedisPrefix> | undefined;
    let a: RunningApp;
    let b: RunningApp;

    beforeAll(async () => {
      database = await createPostgresDatabase();
      redisPrefix = createRedisPrefix();
      const env = {
        DATABASE_URL: database.url,
        REDIS_URL,
        REDIS_KEY_PREFIX: redisPrefix.prefix,
        // startApp makes a secret per app; a cluster shares one.
        GATEHOUSE_SECRET: randomBytes(32).toString("base64url"),
        // 200 parallel log-ins for one account would otherwise meet the brute-force limits on purpose.
        GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT: "100000",
        GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT_AND_IP: "100000",
      };
      // Started together, against a database nobody has migrated yet.
      [a, b] = await Promise.all([startApp({ strategy, env }), startApp({ strategy, env })]);
    });

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await database?.drop();
      await redisPrefix?.drop();
    });

    /** Fails with the logs of both instances, which is what one needs to see when a cross-instance check breaks. */
    function logs(): string {
      return `\n--- instance A ---\n${a.logs()}\n--- instance B ---\n${b.logs()}`;
    }

    async function status(url: string, path: string, cookie: string | undefined): Promise<number> {
      const response = await fetch(`${url}${path}`, { headers: cookie ? { cookie } : {} });
      await response.arrayBuffer();
      return response.status;
    }

    /**
     * One log-in on a connection of its own (`agent: false`): with 200 at once, a pooled keep-alive socket can
     * be closed by the server just as it is reused, which would fail the request before it reached the app.
     */
    function logInOnce(url: string, email: string): Promise<{ status: number; body: string; cookie?: string }> {
      const body = JSON.stringify({ email, password: PASSWORD });
      return new Promise((resolve, reject) => {
        const request = http.request(
          `${url}/api/auth/login`,
          {
            method: "POST",
            agent: false,
            timeout: 45_000,
            headers: { "content-type": "application/json", origin: url, "content-length": Buffer.byteLength(body) },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => {
              const setCookie = (response.headers["set-cookie"] ?? []).find((c) => /gatehouse\.session=/.test(c));
              resolve({
                status: response.statusCode ?? 0,
                body: Buffer.concat(chunks).toString("utf8"),
                ...(setCookie && { cookie: setCookie.split(";", 1)[0] }),
              });
            });
          },
        );
        request.on("timeout", () => request.destroy(new Error("log-in timed out after 45 s")));
        request.on("error", reject);
        request.end(body);
      });
    }

    async function logIn(url: string, email: string) {
      const client = createClient(url);
      const response = await client.request("/api/auth/login", { json: { email, password: PASSWORD } });
      expect(response.status, logs()).toBe(200);
      expect(client.cookie).toBeDefined();
      return client.cookie as string;
    }

    async function listSessions(url: string, cookie: string): Promise<SessionEntry[]> {
      const response = await fetch(`${url}/api/auth/sessions`, { headers: { cookie } });
      expect(response.status, logs()).toBe(200);
      return ((await response.json()) as { sessions: SessionEntry[] }).sessions;
    }

    async function currentSessionId(url: string, cookie: string): Promise<string> {
      const current = (await listSessions(url, cookie)).filter((s) => s.current);
      expect(current).toHaveLength(1);
      return current[0]!.id;
    }

    it("both instances, first used at the same moment, migrate the fresh database exactly once", async () => {
      // Migrations run before the first store call, so the race is between the first requests, not the boots.
      const attempts = Array.from({ length: 10 }, (_, i) =>
        fetch(`${i % 2 === 0 ? a.url : b.url}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: i % 2 === 0 ? a.url : b.url },
          body: JSON.stringify({ email: uniqueEmail("nobody"), password: PASSWORD }),
        }).then(async (response) => ({ status: response.status, body: await response.text() })),
      );
      const answers = await Promise.all(attempts);
      for (const answer of answers) {
        expect(answer.status, `${answer.body}${logs()}`).toBe(401);
        expect(JSON.parse(answer.body).error.code).toBe("invalid_credentials");
      }

      const client = new pg.Client({ connectionString: database!.url });
      await client.connect();
      try {
        const migrations = await client.query<{ name: string; count: string }>(
          "SELECT name, count(*)::text AS count FROM gatehouse_migrations GROUP BY name ORDER BY name",
        );
        expect(migrations.rows).toEqual([
          { name: "0001_users_and_sessions", count: "1" },
          { name: "0002_rate_limits", count: "1" },
          { name: "0003_email_tokens_and_outbox", count: "1" },
          { name: "0004_revocation_epochs_and_attempts", count: "1" },
          { name: "0005_second_factors", count: "1" },
          { name: "0006_identities", count: "1" },
          { name: "0007_audit_admin_mail", count: "1" },
        ]);
        const lock = await client.query<{ is_locked: number }>("SELECT is_locked FROM gatehouse_migrations_lock");
        expect(lock.rows).toEqual([{ is_locked: 0 }]);
        const tables = await client.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
        );
        expect(tables.rows.map((r) => r.table_name)).toEqual([
          "gatehouse_audit",
          "gatehouse_challenges",
          "gatehouse_identities",
          "gatehouse_mail",
          "gatehouse_migrations",
          "gatehouse_migrations_lock",
          "gatehouse_passkeys",
          "gatehouse_rate_limits",
          "gatehouse_recovery_codes",
          "gatehouse_sessions",
          "gatehouse_tokens",
          "gatehouse_totp",
          "gatehouse_users",
        ]);
      } finally {
        await client.end();
      }
    });

    it("a session made on one instance works on the other, and sessions are managed across instances", async () => {
      const email = uniqueEmail(`multi-${strategy}`);

      // Sign up on A; the cookie is good on B, for the same user.
      const first = createSharedClient();
      const signUp = await first.on(a.url).request("/api/auth/signup", { json: { email, password: PASSWORD } });
      expect(signUp.status, logs()).toBe(201);
      const { user } = (await signUp.json()) as { user: { id: string; email: string } };
      const meOnB = await first.on(b.url).request("/api/me");
      expect(meOnB.status, logs()).toBe(200);
      expect(await meOnB.json()).toEqual({ user });
      const firstCookie = first.cookie as string;

      // Log in again on B: a second session, listed by A next to the first.
      const secondCookie = await logIn(b.url, email);
      expect(secondCookie).not.toBe(firstCookie);
      const firstId = await currentSessionId(a.url, firstCookie);
      const secondId = await currentSessionId(b.url, secondCookie);
      expect(secondId).not.toBe(firstId);
      const listedOnA = await listSessions(a.url, firstCookie);
      expect(listedOnA.map((s) => s.id).sort()).toEqual([firstId, secondId].sort());
      expect(listedOnA.find((s) => s.id === firstId)?.current).toBe(true);
      expect(listedOnA.find((s) => s.id === secondId)?.current).toBe(false);
      expect((await listSessions(b.url, secondCookie)).map((s) => s.id).sort()).toEqual([firstId, secondId].sort());

      // Revoke B's session from A: B refuses that cookie at the very next request.
      expect(await status(b.url, "/api/me", secondCookie)).toBe(200);
      const revoke = await first.on(a.url).request(`/api/auth/sessions/${secondId}`, { method: "DELETE" });
      expect(revoke.status, logs()).toBe(200);
      expect(await status(b.url, "/api/me", secondCookie)).toBe(401);
      expect(await status(a.url, "/api/me", secondCookie)).toBe(401);
      expect(await status(b.url, "/api/me", firstCookie)).toBe(200);
      expect((await listSessions(a.url, firstCookie)).map((s) => s.id)).toEqual([firstId]);

      // revoke-others on B ends the sessions that live on A.
      const onA = [firstCookie, await logIn(a.url, email), await logIn(a.url, email)];
      const keeper = await logIn(b.url, email);
      for (const cookie of onA) expect(await status(a.url, "/api/me", cookie)).toBe(200);
      const others = await fetch(`${b.url}/api/auth/sessions/revoke-others`, {
        method: "POST",
        headers: { cookie: keeper, origin: b.url },
      });
      expect(others.status, logs()).toBe(200);
      expect(await others.json()).toEqual({ revoked: 3 });
      for (const cookie of onA) {
        expect(await status(a.url, "/api/me", cookie)).toBe(401);
        expect(await status(b.url, "/api/me", cookie)).toBe(401);
      }
      expect(await status(a.url, "/api/me", keeper)).toBe(200);
      expect(await listSessions(a.url, keeper)).toHaveLength(1);

      // The CLI ends every session, wherever it was made, for both instances at once.
      const everywhere = [keeper, await logIn(a.url, email), await logIn(b.url, email), await logIn(a.url, email)];
      for (const cookie of everywhere) {
        expect(await status(a.url, "/api/me", cookie)).toBe(200);
        expect(await status(b.url, "/api/me", cookie)).toBe(200);
      }
      const revoked = a.cli(["sessions", "revoke", "--email", email]);
      expect(revoked.status, revoked.stderr).toBe(0);
      expect(revoked.stdout).toContain(`Ended 4 sessions of ${email}`);
      for (const cookie of everywhere) {
        expect(await status(a.url, "/api/me", cookie)).toBe(401);
        expect(await status(b.url, "/api/me", cookie)).toBe(401);
        expect(await status(b.url, "/api/auth/sessions", cookie)).toBe(401);
      }
      const fresh = await logIn(b.url, email);
      expect(await listSessions(a.url, fresh)).toHaveLength(1);
    });

    it("a role change made with the CLI is seen by the other instance at its next request", async () => {
      const email = uniqueEmail(`role-${strategy}`);
      const created = b.cli(["users", "create", "--email", email, "--password", PASSWORD]);
      expect(created.status, created.stderr).toBe(0);
      const client = createSharedClient();
      expect((await client.on(a.url).request("/api/auth/login", { json: { email, password: PASSWORD } })).status).toBe(
        200,
      );
      expect((await client.on(a.url).request("/api/admin/users")).status).toBe(403);
      expect((await client.on(b.url).request("/api/admin/users")).status).toBe(403);

      // Promoted through A's CLI: B lets the same session in at once.
      const promoted = a.cli(["users", "set-role", "--email", email, "--role", "admin"]);
      expect(promoted.status, promoted.stderr).toBe(0);
      const listOnB = await client.on(b.url).request("/api/admin/users");
      expect(listOnB.status, logs()).toBe(200);
      expect(((await listOnB.json()) as { users: { email: string }[] }).users.some((u) => u.email === email)).toBe(
        true,
      );
      expect((await client.on(a.url).request("/api/admin/users")).status).toBe(200);

      // Demoted through B's CLI: both instances refuse at the next request; the user stays signed in.
      const demoted = b.cli(["users", "set-role", "--email", email, "--role", "user"]);
      expect(demoted.status, demoted.stderr).toBe(0);
      const forbiddenOnA = await client.on(a.url).request("/api/admin/users");
      expect(forbiddenOnA.status, logs()).toBe(403);
      expect((await forbiddenOnA.json()).error.code).toBe("forbidden");
      expect((await client.on(b.url).request("/api/admin/users")).status).toBe(403);
      const me = await client.on(b.url).request("/api/me");
      expect(me.status, logs()).toBe(200);
      expect((await me.json()).user).toMatchObject({ email, role: "user" });
    });

    it("200 parallel log-ins for one user, split across both instances, make 200 sessions (none lost)", async () => {
      const email = uniqueEmail(`parallel-${strategy}`);
      const created = a.cli(["users", "create", "--email", email, "--password", PASSWORD]);
      expect(created.status, created.stderr).toBe(0);

      const started = Date.now();
      let refusedForLoad = 0;
      const results = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const url = i % 2 === 0 ? a.url : b.url;
          // On a slow machine, 200 argon2 hashes at once can hold a store call past its time limit: that
          // request fails closed (503), as designed, and the client tries again, as a real one would. What
          // must hold is that every log-in gets its session and none is lost.
          for (let attempt = 1; ; attempt++) {
            const response = await logInOnce(url, email);
            if (response.status !== 503 || attempt === 5) return response;
            refusedForLoad++;
          }
        }),
      );
      const elapsed = Date.now() - started;
      console.log(`200 parallel log-ins: ${elapsed} ms, ${refusedForLoad} answered 503 under load and were retried`);
      const failures = results.filter((r) => r.status !== 200);
      expect(
        failures.map((f) => `${f.status} ${f.body}`),
        logs(),
      ).toEqual([]);
      const cookies = results.map((r) => r.cookie as string);
      expect(new Set(cookies).size).toBe(200);

      const sessions = await listSessions(b.url, cookies[0]!);
      expect(
        new Set(sessions.map((s) => s.id)).size,
        `0 lost expected; ${200 - sessions.length} lost (${elapsed} ms)`,
      ).toBe(200);
      expect(sessions).toHaveLength(200);

      // Every one of them works, on the instance that did not make it.
      const statuses = await Promise.all(
        cookies.map((cookie, i) => status(i % 2 === 0 ? b.url : a.url, "/api/me", cookie)),
      );
      expect(statuses.filter((s) => s !== 200)).toEqual([]);

      const revoked = b.cli(["sessions", "revoke", "--email", email]);
      expect(revoked.status, revoked.stderr).toBe(0);
      expect(revoked.stdout).toContain("Ended 200 sessions");
    });
  },
);
