import { describe, expect, it } from "vitest";
import { apiStandIn } from "../../test/support/api-stand-in.js";
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

const api = apiStandIn();

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
    api.reply(403, { error });
    const result = await signIn({ email: USER.email, password: "pw" }, { basePath: api.basePath });
    expect(result).toEqual({ ok: false, status: 403, error, secondFactor: { methods: ["totp", "passkey"] } });
  });

  it("offers only the methods it knows, in the contract's order", async () => {
    api.reply(403, {
      error: { code: "mfa_required", message: "", methods: ["passkey", "sms", "recovery_code", "totp"] },
    });
    const result = await signIn({ email: USER.email, password: "pw" }, { basePath: api.basePath });
    expect(!result.ok && result.secondFactor?.methods).toEqual(["totp", "recovery_code", "passkey"]);
  });

  it("has no second step for any other failure, a 403 of another code included", async () => {
    for (const [status, code] of [
      [401, "invalid_credentials"],
      [403, "reauthentication_required"],
      [429, "rate_limited"],
    ] as const) {
      api.reply(status, { error: { code, message: "" } });
      const result = await signIn({ email: USER.email, password: "pw" }, { basePath: api.basePath });
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
      () => verifySecondFactor({ code: "123 456" }, { basePath: api.basePath }),
      "POST",
      "/mfa/verify",
      { code: "123 456" },
    ],
    [
      "verifySecondFactor (recovery code)",
      () => verifySecondFactor({ recoveryCode: "abcde-fghij" }, { basePath: api.basePath }),
      "POST",
      "/mfa/verify",
      { recoveryCode: "abcde-fghij" },
    ],
    [
      "verifySecondFactor (passkey)",
      () => verifySecondFactor({ passkey: ASSERTION }, { basePath: api.basePath }),
      "POST",
      "/mfa/verify",
      { passkey: ASSERTION },
    ],
    [
      "getSecondFactorPasskeyOptions",
      () => getSecondFactorPasskeyOptions({ basePath: api.basePath }),
      "POST",
      "/mfa/passkey/options",
      {},
    ],
    ["getMfaStatus", () => getMfaStatus({ basePath: api.basePath }), "GET", "/mfa", undefined],
    [
      "setUpTotp",
      () => setUpTotp({ password: "pw" }, { basePath: api.basePath }),
      "POST",
      "/mfa/totp/setup",
      { password: "pw" },
    ],
    [
      "confirmTotp",
      () => confirmTotp({ code: "123456" }, { basePath: api.basePath }),
      "POST",
      "/mfa/totp/confirm",
      { code: "123456" },
    ],
    [
      "disableTotp",
      () => disableTotp({ password: "pw" }, { basePath: api.basePath }),
      "POST",
      "/mfa/totp/disable",
      { password: "pw" },
    ],
    [
      "regenerateRecoveryCodes",
      () => regenerateRecoveryCodes({ password: "pw" }, { basePath: api.basePath }),
      "POST",
      "/mfa/recovery-codes",
      { password: "pw" },
    ],
    [
      "getPasskeyRegistrationOptions",
      () => getPasskeyRegistrationOptions({ password: "pw" }, { basePath: api.basePath }),
      "POST",
      "/passkeys/register/options",
      { password: "pw" },
    ],
    [
      "registerPasskey",
      () => registerPasskey({ response: ATTESTATION, name: "Laptop" }, { basePath: api.basePath }),
      "POST",
      "/passkeys/register",
      { response: ATTESTATION, name: "Laptop" },
    ],
    ["listPasskeys", () => listPasskeys({ basePath: api.basePath }), "GET", "/passkeys", undefined],
    [
      "renamePasskey",
      () => renamePasskey("a/b?c", { name: "Phone" }, { basePath: api.basePath }),
      "PATCH",
      "/passkeys/a%2Fb%3Fc",
      { name: "Phone" },
    ],
    [
      "deletePasskey",
      () => deletePasskey("pk1", { password: "pw" }, { basePath: api.basePath }),
      "DELETE",
      "/passkeys/pk1",
      { password: "pw" },
    ],
    [
      "getPasskeyLoginOptions",
      () => getPasskeyLoginOptions({ basePath: api.basePath }),
      "POST",
      "/passkeys/login/options",
      {},
    ],
    [
      "signInWithPasskey",
      () => signInWithPasskey({ response: ASSERTION }, { basePath: api.basePath }),
      "POST",
      "/passkeys/login",
      { response: ASSERTION },
    ],
  ];

  it.each(cases)("%s sends the contract's request", async (_name, call, method, path, body) => {
    await call();
    expect(api.seen).toEqual([
      {
        method,
        path: `/api/auth${path}`,
        contentType: "application/json",
        body,
      },
    ]);
  });

  it.each(cases)("%s resolves to the API's error, not a throw, on failure", async (_name, call) => {
    api.reply(401, { error: { code: "unauthenticated", message: "Sign in to continue." } });
    await expect(call()).resolves.toEqual({
      ok: false,
      status: 401,
      error: { code: "unauthenticated", message: "Sign in to continue." },
    });
  });
});

describe("the answers of the second-factor and passkey calls", () => {
  it("signs in with a second step or a passkey: the user", async () => {
    api.reply(200, { user: USER });
    await expect(verifySecondFactor({ code: "123456" }, { basePath: api.basePath })).resolves.toEqual({
      ok: true,
      user: USER,
    });
    await expect(signInWithPasskey({ response: ASSERTION }, { basePath: api.basePath })).resolves.toEqual({
      ok: true,
      user: USER,
    });
  });

  it("gives the status, the TOTP setup and the recovery codes as fields beside ok", async () => {
    api.reply(200, { totp: true, passkeys: 2, recoveryCodesLeft: 7 });
    await expect(getMfaStatus({ basePath: api.basePath })).resolves.toEqual({
      ok: true,
      totp: true,
      passkeys: 2,
      recoveryCodesLeft: 7,
    });

    const setup = { secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", uri: "otpauth://totp/x", qrSvg: "<svg></svg>" };
    api.reply(200, setup);
    await expect(setUpTotp({ password: "pw" }, { basePath: api.basePath })).resolves.toEqual({ ok: true, ...setup });

    const recoveryCodes = ["aaaaa-bbbbb", "ccccc-ddddd"];
    api.reply(200, { recoveryCodes });
    await expect(confirmTotp({ code: "123456" }, { basePath: api.basePath })).resolves.toEqual({
      ok: true,
      recoveryCodes,
    });
    await expect(regenerateRecoveryCodes({ password: "pw" }, { basePath: api.basePath })).resolves.toEqual({
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
    api.reply(200, creation);
    await expect(getPasskeyRegistrationOptions({ password: "pw" }, { basePath: api.basePath })).resolves.toEqual({
      ok: true,
      options: creation,
    });
    const request = { challenge: "xyz", userVerification: "required", rpId: "localhost" };
    api.reply(200, request);
    await expect(getPasskeyLoginOptions({ basePath: api.basePath })).resolves.toEqual({ ok: true, options: request });
    await expect(getSecondFactorPasskeyOptions({ basePath: api.basePath })).resolves.toEqual({
      ok: true,
      options: request,
    });
  });

  it("gives the passkeys, and the one registered or renamed", async () => {
    api.reply(200, { passkeys: [PASSKEY] });
    await expect(listPasskeys({ basePath: api.basePath })).resolves.toEqual({ ok: true, passkeys: [PASSKEY] });
    api.reply(201, { passkey: PASSKEY });
    await expect(registerPasskey({ response: ATTESTATION }, { basePath: api.basePath })).resolves.toEqual({
      ok: true,
      passkey: PASSKEY,
    });
    api.reply(200, { passkey: { ...PASSKEY, name: "Phone" } });
    await expect(renamePasskey("pk1", { name: "Phone" }, { basePath: api.basePath })).resolves.toEqual({
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
