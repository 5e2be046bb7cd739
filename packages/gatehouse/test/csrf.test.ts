/**
 * CSRF over real HTTP: every state-changing route (the auth API and a withApiAuth PATCH route) refuses a
 * request that no page of the app's own origin sent, and a refused request changes nothing in the database
 * (compared table by table, read raw). JSON-only routes refuse the body types a cross-site form can send.
 */
import { describe, expect, it } from "vitest";
import { PASSWORD } from "./support/credentials.js";
import {
  apiRequest,
  type RawResponse,
  rawRequest,
  rawSessionCookieOf,
  sessionCookieHeader,
  sessionCookieOf,
  signUpViaApi,
  uniqueEmails,
  useTestServer,
} from "./support/http-server.js";
import { validateSession } from "./support/session-fixtures.js";
import { rawSqliteTables, rawUserByEmail } from "./support/temp-sqlite.js";

const EVIL = "https://evil.example";
/** An extra origin the app is configured to trust (trustedOrigins). */
const TRUSTED = "https://trusted.example";
const NEW_PASSWORD = "a new and unguessable passphrase";

/** A user with two sessions: `cookie` (the one the requests carry) and `other`. */
interface Account {
  email: string;
  userId: string;
  cookie: string;
  other: string;
  otherId: string;
}

/** One state-changing route, and how a legitimate request to it looks. */
interface Target {
  name: string;
  method: string;
  path(account: Account): string;
  /** The JSON body; none when absent. */
  body?(account: Account, freshEmail: string): unknown;
  /** Whether the request carries the session cookie. */
  signedIn: boolean;
  /** The status of the request when it is let through. */
  accepted: number;
}

const TARGETS: Target[] = [
  {
    name: "POST /api/auth/signup",
    method: "POST",
    path: () => "/api/auth/signup",
    body: (_, email) => ({ email, password: PASSWORD }),
    signedIn: false,
    accepted: 201,
  },
  {
    name: "POST /api/auth/login",
    method: "POST",
    path: () => "/api/auth/login",
    body: (a) => ({ email: a.email, password: PASSWORD }),
    signedIn: false,
    accepted: 200,
  },
  {
    name: "POST /api/auth/logout",
    method: "POST",
    path: () => "/api/auth/logout",
    body: () => ({}),
    signedIn: true,
    accepted: 200,
  },
  {
    name: "POST /api/auth/password",
    method: "POST",
    path: () => "/api/auth/password",
    body: () => ({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
    signedIn: true,
    accepted: 200,
  },
  {
    name: "DELETE /api/auth/account",
    method: "DELETE",
    path: () => "/api/auth/account",
    body: () => ({ password: PASSWORD }),
    signedIn: true,
    accepted: 200,
  },
  {
    name: "POST /api/auth/sessions/revoke-others",
    method: "POST",
    path: () => "/api/auth/sessions/revoke-others",
    body: () => ({}),
    signedIn: true,
    accepted: 200,
  },
  {
    name: "DELETE /api/auth/sessions/:id",
    method: "DELETE",
    path: (a) => `/api/auth/sessions/${a.otherId}`,
    signedIn: true,
    accepted: 200,
  },
  {
    name: "PATCH /api/profile (withApiAuth)",
    method: "PATCH",
    path: () => "/api/profile",
    body: () => ({ name: "Changed" }),
    signedIn: true,
    accepted: 200,
  },
];

/** Headers of requests that must be refused. `own` is the app's origin. */
function refusedVariants(): Array<[string, Record<string, string>]> {
  return [
    ["neither Origin nor Sec-Fetch-Site", {}],
    ["Origin https://evil.example", { Origin: EVIL }],
    ['Origin "null" alone', { Origin: "null" }],
    ["Sec-Fetch-Site: cross-site without Origin", { "Sec-Fetch-Site": "cross-site" }],
    ["Sec-Fetch-Site: same-site without Origin", { "Sec-Fetch-Site": "same-site" }],
    ["Sec-Fetch-Site: none without Origin", { "Sec-Fetch-Site": "none" }],
    ['Origin "null" with Sec-Fetch-Site: cross-site', { Origin: "null", "Sec-Fetch-Site": "cross-site" }],
    ["an evil Origin with Sec-Fetch-Site: same-origin beside it", { Origin: EVIL, "Sec-Fetch-Site": "same-origin" }],
    [
      "an evil Origin with Host and X-Forwarded-Host forged to match it",
      { Origin: EVIL, Host: "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https" },
    ],
    ["Origin http://evil.example with Host: evil.example", { Origin: "http://evil.example", Host: "evil.example" }],
    ["a forged Host and X-Forwarded-Host without Origin", { Host: "evil.example", "X-Forwarded-Host": "evil.example" }],
  ];
}

function acceptedVariants(own: string): Array<[string, Record<string, string>]> {
  return [
    ["the app's own Origin", { Origin: own }],
    ['Origin "null" with Sec-Fetch-Site: same-origin', { Origin: "null", "Sec-Fetch-Site": "same-origin" }],
    ["no Origin with Sec-Fetch-Site: same-origin", { "Sec-Fetch-Site": "same-origin" }],
    ["a trusted extra origin (trustedOrigins)", { Origin: TRUSTED }],
    [
      "the app's own Origin with a forged Host and X-Forwarded-Host",
      { Origin: own, Host: "evil.example", "X-Forwarded-Host": "evil.example" },
    ],
  ];
}

describe.each(["database", "stateless"] as const)("CSRF on every state-changing route (%s sessions)", (strategy) => {
  const app = useTestServer(strategy, { trustedOrigins: [TRUSTED] });
  const uniqueEmail = uniqueEmails("csrf", strategy);

  async function sessionIdOf(cookie: string): Promise<string> {
    const valid = await validateSession(app.gatehouse, cookie);
    if (!valid) throw new Error("not a live session cookie");
    return valid.session.id;
  }

  async function newAccount(): Promise<Account> {
    const { email, cookie } = await signUpViaApi(app, uniqueEmail());
    const login = await apiRequest(app, "/api/auth/login", { json: { email, password: PASSWORD } });
    expect(login.status).toBe(200);
    const other = sessionCookieOf(login) as string;
    return {
      email,
      userId: String(rawUserByEmail(app.dbFile, email)?.id),
      cookie,
      other,
      otherId: await sessionIdOf(other),
    };
  }

  function send(target: Target, account: Account, headers: Record<string, string>): Promise<RawResponse> {
    const body = target.body?.(account, uniqueEmail());
    return rawRequest(app, {
      method: target.method,
      path: target.path(account),
      headers: {
        ...(body !== undefined && { "Content-Type": "application/json" }),
        ...(target.signedIn && { Cookie: sessionCookieHeader(account.cookie) }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  }

  function expectCsrfRefusal(response: RawResponse, label: string): void {
    expect(response.status, label).toBe(403);
    expect(JSON.parse(response.body).error.code, label).toBe("csrf");
    expect(response.headers["set-cookie"], label).toBeUndefined();
    expect(response.headers["access-control-allow-origin"], label).toBeUndefined();
    expect(response.headers["access-control-allow-credentials"], label).toBeUndefined();
    expect(response.headers.location, label).toBeUndefined();
  }

  for (const target of TARGETS) {
    describe(target.name, () => {
      it("refuses every request a cross-site page could send with 403 csrf, and nothing changes (raw read)", async () => {
        for (const [label, headers] of refusedVariants()) {
          const account = await newAccount();
          const before = rawSqliteTables(app.dbFile);
          const response = await send(target, account, headers);
          expectCsrfRefusal(response, label);
          expect(rawSqliteTables(app.dbFile), label).toEqual(before);
          // The session the request carried still works.
          expect((await apiRequest(app, "/api/me", { cookie: account.cookie })).status, label).toBe(200);
        }
      });

      it("lets through the requests the app's own pages send, and they take effect", async () => {
        for (const [label, headers] of acceptedVariants(app.origin)) {
          const account = await newAccount();
          const before = rawSqliteTables(app.dbFile);
          const response = await send(target, account, headers);
          expect(response.status, `${label}: ${response.body}`).toBe(target.accepted);
          expect(rawSqliteTables(app.dbFile), label).not.toEqual(before);
        }
      });
    });
  }

  it("a refused request does not rotate or renew the caller's session either (role changed since it was issued)", async () => {
    // After a role change the next check of each session replaces it (new id, new cookie). A request refused for
    // CSRF must not get that far: no row replaced, no Set-Cookie.
    const changed: string[] = [];
    for (const target of TARGETS.filter((t) => t.signedIn)) {
      const account = await newAccount();
      await app.gatehouse.users.setRole(account.email, "admin");
      const before = rawSqliteTables(app.dbFile);
      const response = await send(target, account, { Origin: EVIL });
      expect(response.status, target.name).toBe(403);
      const problems = [
        rawSessionCookieOf(response) !== undefined && "sent a Set-Cookie",
        JSON.stringify(rawSqliteTables(app.dbFile).sessions) !== JSON.stringify(before.sessions) &&
          "replaced the session row",
      ].filter(Boolean);
      if (problems.length > 0) changed.push(`${target.name}: ${problems.join(", ")}`);
    }
    expect(changed).toEqual([]);
  });

  it("a GET changes nothing, with or without Origin", async () => {
    const account = await newAccount();
    const before = rawSqliteTables(app.dbFile);
    for (const path of [
      "/api/auth/session",
      "/api/auth/sessions",
      "/api/me",
      "/api/auth/logout",
      "/api/auth/account",
    ]) {
      for (const headers of [{}, { Origin: EVIL }]) {
        await rawRequest(app, {
          method: "GET",
          path,
          headers: { ...headers, Cookie: sessionCookieHeader(account.cookie) },
        });
      }
    }
    expect(rawSqliteTables(app.dbFile)).toEqual(before);
  });
});

describe.each(["database", "stateless"] as const)(
  "JSON-only routes refuse other body types (%s sessions)",
  (strategy) => {
    const app = useTestServer(strategy);
    const uniqueEmail = uniqueEmails("media", strategy);

    const JSON_ONLY: Array<{ method: string; path: string; json: Record<string, string> }> = [
      { method: "POST", path: "/api/auth/password", json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } },
      { method: "DELETE", path: "/api/auth/account", json: { password: PASSWORD } },
      { method: "POST", path: "/api/auth/sessions/revoke-others", json: {} },
      { method: "PATCH", path: "/api/profile", json: { name: "Changed" } },
    ];

    const BODIES: Array<[string, (json: Record<string, string>) => string]> = [
      ["text/plain", (json) => JSON.stringify(json)],
      ["text/plain;charset=UTF-8", (json) => JSON.stringify(json)],
      ["application/x-www-form-urlencoded", (json) => new URLSearchParams(json).toString()],
      [
        "multipart/form-data; boundary=x",
        (json) => `--x\r\nContent-Disposition: form-data; name="password"\r\n\r\n${json.password ?? ""}\r\n--x--\r\n`,
      ],
    ];

    for (const route of JSON_ONLY) {
      it(`${route.method} ${route.path} answers 415 to text, form and multipart bodies, and changes nothing`, async () => {
        const { email, cookie } = await signUpViaApi(app, uniqueEmail());
        const login = await apiRequest(app, "/api/auth/login", { json: { email, password: PASSWORD } });
        expect(login.status).toBe(200);
        for (const [type, encode] of [
          ...BODIES,
          ["(none)", (json: Record<string, string>) => JSON.stringify(json)] as const,
        ]) {
          const before = rawSqliteTables(app.dbFile);
          const response = await rawRequest(app, {
            method: route.method,
            path: route.path,
            headers: {
              Origin: app.origin,
              Cookie: sessionCookieHeader(cookie),
              ...(type !== "(none)" && { "Content-Type": type }),
            },
            body: encode(route.json),
          });
          expect(response.status, type).toBe(415);
          expect(JSON.parse(response.body).error.code, type).toBe("unsupported_media_type");
          expect(rawSqliteTables(app.dbFile), type).toEqual(before);
        }
        expect((await apiRequest(app, "/api/me", { cookie })).status).toBe(200);
      });
    }

    it("log-in and sign-up still take HTML forms", async () => {
      const email = uniqueEmail();
      const form = (path: string) =>
        rawRequest(app, {
          method: "POST",
          path,
          headers: { Origin: app.origin, "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ email, password: PASSWORD, next: "/profile" }).toString(),
        });
      const signup = await form("/api/auth/signup");
      expect(signup.status).toBe(303);
      expect(signup.headers.location).toBe("/profile");
      expect(rawSessionCookieOf(signup)).toBeTruthy();
      const login = await form("/api/auth/login");
      expect(login.status).toBe(303);
      expect(login.headers.location).toBe("/profile");
      expect(rawSessionCookieOf(login)).toBeTruthy();
    });
  },
);
