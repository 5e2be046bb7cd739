import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type AuthenticationResponseJSON,
  confirmTotp,
  deletePasskey,
  disableTotp,
  getMfaStatus,
  getPasskeyLoginOptions,
  getPasskeyRegistrationOptions,
  getSecondFactorPasskeyOptions,
  listPasskeys,
  type RegistrationResponseJSON,
  regenerateRecoveryCodes,
  registerPasskey,
  renamePasskey,
  setUpTotp,
  signIn,
  signInWithPasskey,
  verifySecondFactor,
} from "./index.js";

/** What the server saw of one request. */
interface Seen {
  method: string;
  path: string;
  contentType: string | undefined;
  body: unknown;
}

/**
 * A real HTTP server standing in for the auth API: it records each request and answers the reply set for the
 * test, so the helpers run their real `fetch` against the contract's answers.
 */
let server: Server;
let basePath: string;
let seen: Seen[] = [];
let reply: { status: number; body: unknown } = { status: 200, body: { ok: true } };

beforeAll(async () => {
  server = createServer(async (request, response) => {
    let text = "";
    for await (const chunk of request) text += chunk;
    seen.push({
      method: request.method ?? "",
      path: request.url ?? "",
      contentType: request.headers["content-type"],
      body: text === "" ? undefined : JSON.parse(text),
    });
    response.writeHead(reply.status, { "content-type": "application/json" });
    response.end(JSON.stringify(reply.body));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  basePath = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/auth`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));
beforeEach(() => {
  seen = [];
  reply = { status: 200, body: { ok: true } };
});

const USER = { id: "u1", email: "ada@example.com", name: null, role: "user", emailVerified: true };
const PASSKEY = { id: "pk1", name: "Laptop", createdAt: "2026-01-02T03:04:05.000Z", lastUsedAt: null };
// Shapes as the browser library hands them over; the helpers only pass them on.
const ASSERTION = {
  id: "cred",
  rawId: "cred",
  type: "public-key",
  response: {},
} as unknown as AuthenticationResponseJSON;
const ATTESTATION = {
  id: "cred",
  rawId: "cred",
  type: "public-key",
  response: {},
} as unknown as RegistrationResponseJSON;

describe("signIn when the account has a second factor", () => {
  it("answers a failure with secondFactor and its methods for 403 mfa_required, keeping status and error", async () => {
    const error = { code: "mfa_required", message: "A second step is required.", methods: ["totp", "passkey"] };
    reply = { status: 403, body: { error } };
    const result = await signIn({ email: USER.email, password: "pw" }, { basePath });
    expect(result).toEqual({ ok: false, status: 403, error, secondFactor: { methods: ["totp", "passkey"] } });
  });

  it("offers only the methods it knows, in the contract's order", async () => {
    reply = {
      status: 403,
      body: { error: { code: "mfa_required", message: "", methods: ["passkey", "sms", "recovery_code", "totp"] } },
    };
    const result = await signIn({ email: USER.email, password: "pw" }, { basePath });
    expect(!result.ok && result.secondFactor?.methods).toEqual(["totp", "recovery_code", "passkey"]);
  });

  it("has no second step for any other failure, a 403 of another code included", async () => {
    for (const [status, code] of [
      [401, "invalid_credentials"],
      [403, "reauthentication_required"],
      [429, "rate_limited"],
    ] as const) {
      reply = { status, body: { error: { code, message: "" } } };
      const result = await signIn({ email: USER.email, password: "pw" }, { basePath });
      expect(result.ok, code).toBe(false);
      expect(!result.ok && result.error.code, code).toBe(code);
      expect(!result.ok && "secondFactor" in result, code).toBe(false);
    }
  });
});

describe("the second-factor and passkey calls", () => {
  const cases: Array<[string, () => Promise<unknown>, string, string, unknown]> = [
    [
      "verifySecondFactor (code)",
      () => verifySecondFactor({ code: "123 456" }, { basePath }),
      "POST",
      "/mfa/verify",
      { code: "123 456" },
    ],
    [
      "verifySecondFactor (recovery code)",
      () => verifySecondFactor({ recoveryCode: "abcde-fghij" }, { basePath }),
      "POST",
      "/mfa/verify",
      { recoveryCode: "abcde-fghij" },
    ],
    [
      "verifySecondFactor (passkey)",
      () => verifySecondFactor({ passkey: ASSERTION }, { basePath }),
      "POST",
      "/mfa/verify",
      { passkey: ASSERTION },
    ],
    [
      "getSecondFactorPasskeyOptions",
      () => getSecondFactorPasskeyOptions({ basePath }),
      "POST",
      "/mfa/passkey/options",
      {},
    ],
    ["getMfaStatus", () => getMfaStatus({ basePath }), "GET", "/mfa", undefined],
    ["setUpTotp", () => setUpTotp({ password: "pw" }, { basePath }), "POST", "/mfa/totp/setup", { password: "pw" }],
    [
      "confirmTotp",
      () => confirmTotp({ code: "123456" }, { basePath }),
      "POST",
      "/mfa/totp/confirm",
      { code: "123456" },
    ],
    [
      "disableTotp",
      () => disableTotp({ password: "pw" }, { basePath }),
      "POST",
      "/mfa/totp/disable",
      { password: "pw" },
    ],
    [
      "regenerateRecoveryCodes",
      () => regenerateRecoveryCodes({ password: "pw" }, { basePath }),
      "POST",
      "/mfa/recovery-codes",
      { password: "pw" },
    ],
    [
      "getPasskeyRegistrationOptions",
      () => getPasskeyRegistrationOptions({ password: "pw" }, { basePath }),
      "POST",
      "/passkeys/register/options",
      { password: "pw" },
    ],
    [
      "registerPasskey",
      () => registerPasskey({ response: ATTESTATION, name: "Laptop" }, { basePath }),
      "POST",
      "/passkeys/register",
      { response: ATTESTATION, name: "Laptop" },
    ],
    ["listPasskeys", () => listPasskeys({ basePath }), "GET", "/passkeys", undefined],
    [
      "renamePasskey",
      () => renamePasskey("a/b?c", { name: "Phone" }, { basePath }),
      "PATCH",
      "/passkeys/a%2Fb%3Fc",
      { name: "Phone" },
    ],
    [
      "deletePasskey",
      () => deletePasskey("pk1", { password: "pw" }, { basePath }),
      "DELETE",
      "/passkeys/pk1",
      { password: "pw" },
    ],
    ["getPasskeyLoginOptions", () => getPasskeyLoginOptions({ basePath }), "POST", "/passkeys/login/options", {}],
    [
      "signInWithPasskey",
      () => signInWithPasskey({ response: ASSERTION }, { basePath }),
      "POST",
      "/passkeys/login",
      { response: ASSERTION },
    ],
  ];

  it.each(cases)("%s sends the contract's request", async (_name, call, method, path, body) => {
    await call();
    expect(seen).toEqual([
      {
        method,
        path: `/api/auth${path}`,
        contentType: "application/json",
        body,
      },
    ]);
  });

  it.each(cases)("%s resolves to the API's error, not a throw, on failure", async (_name, call) => {
    reply = { status: 401, body: { error: { code: "unauthenticated", message: "Sign in to continue." } } };
    await expect(call()).resolves.toEqual({
      ok: false,
      status: 401,
      error: { code: "unauthenticated", message: "Sign in to continue." },
    });
  });
});

describe("the answers of the second-factor and passkey calls", () => {
  it("signs in with a second step or a passkey: the user", async () => {
    reply = { status: 200, body: { user: USER } };
    await expect(verifySecondFactor({ code: "123456" }, { basePath })).resolves.toEqual({ ok: true, user: USER });
    await expect(signInWithPasskey({ response: ASSERTION }, { basePath })).resolves.toEqual({ ok: true, user: USER });
  });

  it("gives the status, the TOTP setup and the recovery codes as fields beside ok", async () => {
    reply = { status: 200, body: { totp: true, passkeys: 2, recoveryCodesLeft: 7 } };
    await expect(getMfaStatus({ basePath })).resolves.toEqual({
      ok: true,
      totp: true,
      passkeys: 2,
      recoveryCodesLeft: 7,
    });

    const setup = { secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", uri: "otpauth://totp/x", qrSvg: "<svg></svg>" };
    reply = { status: 200, body: setup };
    await expect(setUpTotp({ password: "pw" }, { basePath })).resolves.toEqual({ ok: true, ...setup });

    const recoveryCodes = ["aaaaa-bbbbb", "ccccc-ddddd"];
    reply = { status: 200, body: { recoveryCodes } };
    await expect(confirmTotp({ code: "123456" }, { basePath })).resolves.toEqual({ ok: true, recoveryCodes });
    await expect(regenerateRecoveryCodes({ password: "pw" }, { basePath })).resolves.toEqual({
      ok: true,
      recoveryCodes,
    });
  });

  it("gives WebAuthn options whole, under options, to hand to the browser", async () => {
    const creation = {
      rp: { name: "App", id: "localhost" },
      challenge: "abc",
      user: { id: "u", name: "n", displayName: "" },
    };
    reply = { status: 200, body: creation };
    await expect(getPasskeyRegistrationOptions({ password: "pw" }, { basePath })).resolves.toEqual({
      ok: true,
      options: creation,
    });
    const request = { challenge: "xyz", userVerification: "required", rpId: "localhost" };
    reply = { status: 200, body: request };
    await expect(getPasskeyLoginOptions({ basePath })).resolves.toEqual({ ok: true, options: request });
    await expect(getSecondFactorPasskeyOptions({ basePath })).resolves.toEqual({ ok: true, options: request });
  });

  it("gives the passkeys, and the one registered or renamed", async () => {
    reply = { status: 200, body: { passkeys: [PASSKEY] } };
    await expect(listPasskeys({ basePath })).resolves.toEqual({ ok: true, passkeys: [PASSKEY] });
    reply = { status: 201, body: { passkey: PASSKEY } };
    await expect(registerPasskey({ response: ATTESTATION }, { basePath })).resolves.toEqual({
      ok: true,
      passkey: PASSKEY,
    });
    reply = { status: 200, body: { passkey: { ...PASSKEY, name: "Phone" } } };
    await expect(renamePasskey("pk1", { name: "Phone" }, { basePath })).resolves.toEqual({
      ok: true,
      passkey: { ...PASSKEY, name: "Phone" },
    });
  });

  it("answers network_error with status 0 when the server cannot be reached", async () => {
    const unreachable = "http://127.0.0.1:9/api/auth";
    for (const call of [
      () => getMfaStatus({ basePath: unreachable }),
      () => verifySecondFactor({ code: "1" }, { basePath: unreachable }),
    ]) {
      const result = await call();
      expect(result).toMatchObject({ ok: false, status: 0, error: { code: "network_error" } });
    }
  });
});
