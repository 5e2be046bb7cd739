import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigurationError } from "../errors.js";
import { MAX_COOKIE_AGE_SECONDS, resolveSessionConfig } from "../session/config.js";
import { resolveCredentialConfig } from "./config.js";

const SECRET = "0123456789abcdef0123456789abcdef"; // 32 characters
const DAY = 24 * 60 * 60;

function configurationError(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe("configuration");
    return error as ConfigurationError;
  }
  throw new Error("expected a ConfigurationError");
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("resolveSessionConfig", () => {
  it("fills in the defaults: database strategy, 7 days sliding, 30 days absolute, gatehouse.session", () => {
    const config = resolveSessionConfig({ secret: SECRET });
    expect(config).toMatchObject({
      secrets: [SECRET],
      strategy: "database",
      cookieName: "gatehouse.session",
      maxAgeSeconds: 7 * DAY,
      absoluteMaxAgeSeconds: 30 * DAY,
    });
    expect(MAX_COOKIE_AGE_SECONDS).toBe(30 * DAY);
    expect(config.now).toBe(Date.now);
  });

  it("uses an injected clock", () => {
    const now = () => 1_700_000_000_000;
    expect(resolveSessionConfig({ secret: SECRET, now }).now).toBe(now);
  });

  it("refuses a missing secret and says how to make one", () => {
    for (const secret of [undefined, [], [undefined]]) {
      const error = configurationError(() => resolveSessionConfig({ secret } as never));
      expect(error.message).toMatch(/GATEHOUSE_SECRET/);
      expect(error.message).toMatch(/gatehouse secret/);
    }
  });

  it("refuses a 31-character secret without echoing it", () => {
    const short = "s3cr3t-value-of-31-characters!!";
    expect(short).toHaveLength(31);
    const error = configurationError(() => resolveSessionConfig({ secret: short }));
    expect(error.message).toMatch(/at least 32 characters/);
    expect(error.message).not.toContain(short);
  });

  it("refuses a short secret anywhere in a rotation list", () => {
    configurationError(() => resolveSessionConfig({ secret: [SECRET, "too-short"] }));
    expect(resolveSessionConfig({ secret: [SECRET, `${SECRET}x`] }).secrets).toEqual([SECRET, `${SECRET}x`]);
  });

  it("refuses an unknown strategy", () => {
    const error = configurationError(() => resolveSessionConfig({ secret: SECRET, strategy: "jwt" as never }));
    expect(error.message).toMatch(/"database" or "stateless"/);
  });

  it("refuses maxAgeSeconds over 30 days, zero, negative or fractional", () => {
    for (const maxAgeSeconds of [30 * DAY + 1, 0, -1, 1.5, Number.NaN]) {
      configurationError(() =>
        resolveSessionConfig({ secret: SECRET, maxAgeSeconds, absoluteMaxAgeSeconds: 60 * DAY }),
      );
    }
    expect(resolveSessionConfig({ secret: SECRET, maxAgeSeconds: 30 * DAY }).maxAgeSeconds).toBe(30 * DAY);
  });

  it("refuses an absolute cap shorter than maxAgeSeconds", () => {
    configurationError(() =>
      resolveSessionConfig({ secret: SECRET, maxAgeSeconds: 3600, absoluteMaxAgeSeconds: 3599 }),
    );
    configurationError(() => resolveSessionConfig({ secret: SECRET, absoluteMaxAgeSeconds: 6 * DAY }));
    expect(
      resolveSessionConfig({ secret: SECRET, maxAgeSeconds: 3600, absoluteMaxAgeSeconds: 3600 }).absoluteMaxAgeSeconds,
    ).toBe(3600);
  });

  it("refuses a cookie name with unsafe characters or a __ prefix", () => {
    for (const cookieName of ["__Host-session", "__Secure-x", "my session", "a;b", "a=b", "", "sess\u00e9"]) {
      configurationError(() => resolveSessionConfig({ secret: SECRET, cookieName }));
    }
    expect(resolveSessionConfig({ secret: SECRET, cookieName: "my_app.sid-1" }).cookieName).toBe("my_app.sid-1");
  });

  it("defaults secureCookies to true when NODE_ENV is production", () => {
    vi.stubEnv("NODE_ENV", "production");
    expect(resolveSessionConfig({ secret: SECRET }).secureCookies).toBe(true);
  });

  it("defaults secureCookies to false when NODE_ENV is development or test", () => {
    vi.stubEnv("NODE_ENV", "development");
    expect(resolveSessionConfig({ secret: SECRET }).secureCookies).toBe(false);
    vi.stubEnv("NODE_ENV", "test");
    expect(resolveSessionConfig({ secret: SECRET }).secureCookies).toBe(false);
  });

  it("lets an explicit secureCookies override NODE_ENV", () => {
    vi.stubEnv("NODE_ENV", "production");
    expect(resolveSessionConfig({ secret: SECRET, secureCookies: false }).secureCookies).toBe(false);
    vi.stubEnv("NODE_ENV", "development");
    expect(resolveSessionConfig({ secret: SECRET, secureCookies: true }).secureCookies).toBe(true);
  });
});

describe("resolveCredentialConfig", () => {
  it("defaults to 8–256 character passwords, OWASP argon2id and the user role", () => {
    const config = resolveCredentialConfig({});
    expect(config.passwordPolicy).toEqual({ minLength: 8, maxLength: 256 });
    expect(config.argon2).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(config.defaultRole).toBe("user");
  });

  it("refuses a maximum password length under 64 or under the minimum", () => {
    configurationError(() => resolveCredentialConfig({ password: { maxLength: 63 } }));
    configurationError(() => resolveCredentialConfig({ password: { minLength: 100, maxLength: 64 } }));
    configurationError(() => resolveCredentialConfig({ password: { minLength: 0 } }));
  });

  it("refuses a default role that does not exist", () => {
    const error = configurationError(() => resolveCredentialConfig({ defaultRole: "superuser" }));
    expect(error.message).toMatch(/user, admin/);
  });
});

describe("resolveCredentialConfig: origins, proxies, limits and re-authentication", () => {
  it("collects url and trustedOrigins as origins, normalised; none by default", () => {
    expect(resolveCredentialConfig({}).origins).toEqual(new Set());
    const config = resolveCredentialConfig({
      url: "https://App.example/path?q=1",
      trustedOrigins: ["http://localhost:3000/", "https://app.example"],
    });
    expect(config.origins).toEqual(new Set(["https://app.example", "http://localhost:3000"]));
  });

  it("refuses a url or trusted origin that is not a URL", () => {
    for (const url of ["app.example", "", "//app.example"]) {
      expect(configurationError(() => resolveCredentialConfig({ url })).message, url).toMatch(/not a URL/);
    }
    configurationError(() => resolveCredentialConfig({ trustedOrigins: ["https://ok.example", "nope"] }));
  });

  it("defaults trustedProxies to 0 and refuses a negative or fractional count", () => {
    expect(resolveCredentialConfig({}).trustedProxies).toBe(0);
    expect(resolveCredentialConfig({ trustedProxies: 2 }).trustedProxies).toBe(2);
    for (const trustedProxies of [-1, 1.5, Number.NaN])
      configurationError(() => resolveCredentialConfig({ trustedProxies }));
  });

  it("defaults the limits to 10 failures per account and IP and 100 attempts per IP per 15 minutes, 20 sign-ups per IP per hour", () => {
    expect(resolveCredentialConfig({}).rateLimits).toMatchObject({
      loginPerAccountAndIp: { max: 10, windowSeconds: 900 },
      loginPerIp: { max: 100, windowSeconds: 900 },
      signupPerIp: { max: 20, windowSeconds: 3600 },
    });
  });

  it("takes a limit turned off or replaced, keeping the other defaults", () => {
    const config = resolveCredentialConfig({
      rateLimits: { signupPerIp: false, loginPerIp: { max: 5, windowSeconds: 60 } },
    });
    expect(config.rateLimits).toMatchObject({
      loginPerAccountAndIp: { max: 10, windowSeconds: 900 },
      loginPerIp: { max: 5, windowSeconds: 60 },
      signupPerIp: false,
    });
  });

  it("refuses a limit with a zero, negative or fractional max or window", () => {
    for (const rule of [
      { max: 0, windowSeconds: 60 },
      { max: 5, windowSeconds: 0 },
      { max: -1, windowSeconds: 60 },
      { max: 1.5, windowSeconds: 60 },
      { max: 5, windowSeconds: 0.5 },
    ]) {
      const error = configurationError(() => resolveCredentialConfig({ rateLimits: { loginPerIp: rule } }));
      expect(error.message).toMatch(/rateLimits\.loginPerIp/);
    }
  });

  it("defaults freshAuthSeconds to 600", () => {
    expect(resolveCredentialConfig({}).freshAuthSeconds).toBe(600);
    expect(resolveCredentialConfig({ freshAuthSeconds: 60 }).freshAuthSeconds).toBe(60);
  });
});

describe("resolveCredentialConfig: email", () => {
  const mailer = { send: async () => undefined };

  it("defaults to no mailer, links valid 24 hours, reset links 1 hour, verification not required", () => {
    const { email } = resolveCredentialConfig({});
    expect(email).toMatchObject({
      mailer: null,
      requireVerification: false,
      verificationMethod: "link",
      verificationLifetimeSeconds: 86_400,
      resetLifetimeSeconds: 3600,
      verifyEmailUrl: null,
      resetPasswordUrl: null,
      appName: "Gatehouse",
    });
  });

  it("builds the link pages on url, never on anything else", () => {
    const { email } = resolveCredentialConfig({
      url: "https://app.example.com/ignored",
      mailer,
      emailLinks: { resetPassword: "/account/reset" },
    });
    expect(email.verifyEmailUrl).toBe("https://app.example.com/verify-email");
    expect(email.resetPasswordUrl).toBe("https://app.example.com/account/reset");
  });

  it("refuses a mailer without url, since links would have no trustworthy origin", () => {
    expect(() => resolveCredentialConfig({ mailer })).toThrow(/GATEHOUSE_URL/);
  });

  it.each([
    [{ emailVerification: { method: "sms" as never } }, /method/],
    [{ emailVerification: { lifetimeSeconds: 10 } }, /lifetimeSeconds/],
    [{ passwordResetLifetimeSeconds: 1.5 }, /passwordResetLifetimeSeconds/],
    [{ emailLinks: { verifyEmail: "https://evil.example/verify" } }, /emailLinks.verifyEmail/],
    [{ emailLinks: { resetPassword: "//evil.example/reset" } }, /emailLinks.resetPassword/],
  ])("refuses %j", (options, message) => {
    expect(() => resolveCredentialConfig({ url: "https://app.example.com", ...options })).toThrow(message);
  });
});
