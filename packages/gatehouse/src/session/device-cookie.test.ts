/**
 * The device cookie on its own: a real sealer (AES-GCM, purpose "device") and a moved clock. What the log-in
 * limits do with it is in test/login-throttling.test.ts.
 */
import { parse } from "cookie";
import { beforeEach, describe, expect, it } from "vitest";
import { TEST_SECRET } from "../../test/support/credentials.js";
import { decodeBase64url, encodeBase64url } from "../crypto/base64url.js";
import { createSealer } from "../crypto/seal.js";
import { resolveSessionConfig, type SessionCookieOptions } from "./config.js";
import { createDeviceCookie, DEVICE_SEAL_PURPOSE, type DeviceAccount, type DeviceCookie } from "./device-cookie.js";
import { SESSION_SEAL_PURPOSE } from "./stateless.js";

const OTHER_SECRET = "another-device-cookie-secret-9876543210";
const T0 = Date.UTC(2030, 0, 1);
const SECOND = 1000;
const YEAR_S = 365 * 24 * 60 * 60;
const ADA: DeviceAccount = { id: "user-ada", passwordHash: "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$ada-hash" };
const BOB: DeviceAccount = { id: "user-bob", passwordHash: "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$bob-hash" };

let clock: number;

function deviceCookie(options: Partial<SessionCookieOptions> = {}): DeviceCookie {
  const config = resolveSessionConfig({ secret: TEST_SECRET, secureCookies: false, now: () => clock, ...options });
  return createDeviceCookie(config, createSealer(config.secrets, DEVICE_SEAL_PURPOSE));
}

/** A `Set-Cookie` value split into its name, its value and its lower-cased attribute names → values. */
function parseSetCookie(setCookie: string): { name: string; value: string; attrs: Map<string, string> } {
  const [pair = "", ...rest] = setCookie.split(";").map((part) => part.trim());
  const equals = pair.indexOf("=");
  const attrs = new Map(
    rest.map((part) => {
      const [key = "", ...value] = part.split("=");
      return [key.toLowerCase(), value.join("=")] as [string, string];
    }),
  );
  return { name: pair.slice(0, equals), value: pair.slice(equals + 1), attrs };
}

/** The value a browser would send back for the device cookie issued to `account`. */
async function issuedValue(cookie: DeviceCookie, account: DeviceAccount): Promise<string> {
  return parseSetCookie(await cookie.issue(account)).value;
}

/** What a genuine cookie holds, opened as the gatehouse opens it. */
async function payloadOf(value: string): Promise<Record<string, unknown>> {
  return (await createSealer([TEST_SECRET], DEVICE_SEAL_PURPOSE).open(value)) as Record<string, unknown>;
}

beforeEach(() => {
  clock = T0;
});

describe("issue, then read and deviceFor (round trip)", () => {
  it("the cookie a log-in leaves names a device of that account", async () => {
    const cookie = deviceCookie();
    const { name, value } = parseSetCookie(await cookie.issue(ADA));
    expect(name).toBe(cookie.name);
    // As the browser sends it back, among other cookies.
    const header = `gatehouse.session=abc; ${name}=${value}; theme=dark`;
    expect(cookie.read(header)).toBe(value);
    const device = await cookie.deviceFor(cookie.read(header), ADA);
    expect(typeof device).toBe("string");
    expect(device?.length).toBeGreaterThan(0);
    // The same cookie names the same device every time it is presented.
    expect(await cookie.deviceFor(value, ADA)).toBe(device);
  });

  it("gives every log-in a device of its own, for one account and for two", async () => {
    const cookie = deviceCookie();
    const values = [await issuedValue(cookie, ADA), await issuedValue(cookie, ADA), await issuedValue(cookie, BOB)];
    const devices = [
      await cookie.deviceFor(values[0], ADA),
      await cookie.deviceFor(values[1], ADA),
      await cookie.deviceFor(values[2], BOB),
    ];
    expect(devices.every((device) => typeof device === "string")).toBe(true);
    expect(new Set(devices).size).toBe(3);
  });

  it("is sealed: neither the value nor what it opens to holds the password hash", async () => {
    const value = await issuedValue(deviceCookie(), ADA);
    expect(value).toMatch(/^g1\.[A-Za-z0-9_-]+$/);
    const plaintext = JSON.stringify(await payloadOf(value));
    expect(plaintext).not.toContain(ADA.passwordHash);
    expect(plaintext).not.toContain("ada-hash");
  });

  it("is opened by a gatehouse that has moved to a new secret and keeps the old one (rotation)", async () => {
    const value = await issuedValue(deviceCookie(), ADA);
    const rotated = deviceCookie({ secret: [OTHER_SECRET, TEST_SECRET] });
    expect(await rotated.deviceFor(value, ADA)).toBe(await deviceCookie().deviceFor(value, ADA));
    expect(await deviceCookie({ secret: OTHER_SECRET }).deviceFor(value, ADA)).toBeNull();
  });
});

describe("deviceFor refuses (null, never throws)", () => {
  it("another account's device cookie", async () => {
    const cookie = deviceCookie();
    const value = await issuedValue(cookie, ADA);
    expect(await cookie.deviceFor(value, BOB)).toBeNull();
    expect(await cookie.deviceFor(value, { id: BOB.id, passwordHash: ADA.passwordHash })).toBeNull();
    expect(await cookie.deviceFor(value, { id: "", passwordHash: ADA.passwordHash })).toBeNull();
  });

  it("a cookie issued under a password the account no longer has", async () => {
    const cookie = deviceCookie();
    const value = await issuedValue(cookie, ADA);
    expect(await cookie.deviceFor(value, { id: ADA.id, passwordHash: `${ADA.passwordHash}-changed` })).toBeNull();
    expect(await cookie.deviceFor(value, { id: ADA.id, passwordHash: "" })).toBeNull();
    expect(await cookie.deviceFor(value, ADA)).not.toBeNull();
  });

  it("a cookie 365 days old, and accepts it until then", async () => {
    const cookie = deviceCookie();
    const value = await issuedValue(cookie, ADA);
    clock = T0 + YEAR_S * SECOND - 1;
    expect(await cookie.deviceFor(value, ADA)).not.toBeNull();
    clock = T0 + YEAR_S * SECOND;
    expect(await cookie.deviceFor(value, ADA)).toBeNull();
    clock = T0 + 2 * YEAR_S * SECOND;
    expect(await cookie.deviceFor(value, ADA)).toBeNull();
  });

  it("a cookie with any byte of its sealed body changed", async () => {
    const cookie = deviceCookie();
    const value = await issuedValue(cookie, ADA);
    const [prefix, body] = value.split(".") as [string, string];
    const bytes = decodeBase64url(body) as Uint8Array;
    for (let i = 0; i < bytes.length; i++) {
      const tampered = Uint8Array.from(bytes);
      tampered[i] = (tampered[i] as number) ^ 0x01;
      expect(await cookie.deviceFor(`${prefix}.${encodeBase64url(tampered)}`, ADA), `byte ${i}`).toBeNull();
    }
    expect(await cookie.deviceFor(`g2.${body}`, ADA)).toBeNull();
    expect(await cookie.deviceFor(`${value}A`, ADA)).toBeNull();
    expect(await cookie.deviceFor(value.slice(0, -1), ADA)).toBeNull();
  });

  it("a genuine payload sealed for the session purpose, with the same secret", async () => {
    const cookie = deviceCookie();
    const payload = await payloadOf(await issuedValue(cookie, ADA));
    const asSession = await createSealer([TEST_SECRET], SESSION_SEAL_PURPOSE).seal(payload);
    expect(await cookie.deviceFor(asSession, ADA)).toBeNull();
    // The control: the same payload sealed again for devices is accepted, so only the purpose was wrong.
    const asDevice = await createSealer([TEST_SECRET], DEVICE_SEAL_PURPOSE).seal(payload);
    expect(await cookie.deviceFor(asDevice, ADA)).toBe(payload.d);
  });

  it("a genuinely sealed value whose payload is not a device payload", async () => {
    const cookie = deviceCookie();
    const sealer = createSealer([TEST_SECRET], DEVICE_SEAL_PURPOSE);
    const genuine = await payloadOf(await issuedValue(cookie, ADA));
    const without = (field: string) => Object.fromEntries(Object.entries(genuine).filter(([key]) => key !== field));
    const { i } = genuine as { i: number };
    const payloads: unknown[] = [
      null,
      "a string",
      42,
      [genuine],
      {},
      ...Object.keys(genuine).map(without),
      { ...genuine, d: "" },
      { ...genuine, d: 7 },
      { ...genuine, d: "x".repeat(65) },
      { ...genuine, i: String(i) },
      { ...genuine, i: i + 0.5 },
      { ...genuine, i: null },
    ];
    for (const payload of payloads) {
      expect(await cookie.deviceFor(await sealer.seal(payload), ADA), JSON.stringify(payload)).toBeNull();
    }
    expect(await cookie.deviceFor(await sealer.seal(genuine), ADA), "the genuine payload, sealed again").toBe(
      genuine.d,
    );
  });

  it("garbage, empty and oversized values", async () => {
    const cookie = deviceCookie();
    const genuine = await issuedValue(cookie, ADA);
    for (const value of [
      null,
      undefined,
      "",
      "garbage",
      "g1.",
      "g1.!!!!",
      "g1.A",
      `g1.${"A".repeat(200)}`,
      `g1.${"_".repeat(5000)}`,
      genuine + "x".repeat(5000),
      "%00%ff",
      "\u0000",
    ]) {
      await expect(cookie.deviceFor(value, ADA)).resolves.toBeNull();
    }
  });
});

describe("read", () => {
  const cookie = deviceCookie();

  it("finds the device cookie by its exact name, and nothing else", () => {
    expect(cookie.read(null)).toBeNull();
    expect(cookie.read(undefined)).toBeNull();
    expect(cookie.read("")).toBeNull();
    expect(cookie.read("gatehouse.session=abc")).toBeNull();
    expect(cookie.read("xgatehouse.device=abc; gatehouse.devices=def")).toBeNull();
    expect(cookie.read("gatehouse.device=abc")).toBe("abc");
    expect(cookie.read("a=1;gatehouse.device=abc;b=2")).toBe("abc");
  });

  it("leaves out a value longer than a cookie can be", () => {
    expect(cookie.read(`gatehouse.device=${"a".repeat(4096)}`)).toBe("a".repeat(4096));
    expect(cookie.read(`gatehouse.device=${"a".repeat(4097)}`)).toBeNull();
  });
});

describe("the cookie's name and attributes", () => {
  it("in development: gatehouse.device, HttpOnly, SameSite=Lax, Path=/, Max-Age of 365 days, not Secure, no Domain", async () => {
    const cookie = deviceCookie({ secureCookies: false });
    expect(cookie.name).toBe("gatehouse.device");
    const { name, attrs } = parseSetCookie(await cookie.issue(ADA));
    expect(name).toBe("gatehouse.device");
    expect(attrs.has("httponly")).toBe(true);
    expect(attrs.get("samesite")).toBe("Lax");
    expect(attrs.get("path")).toBe("/");
    expect(attrs.get("max-age")).toBe(String(YEAR_S));
    expect(attrs.has("secure")).toBe(false);
    expect(attrs.has("domain")).toBe(false);
  });

  it("with secureCookies: __Host-gatehouse.device, Secure, and read back only under that name", async () => {
    const cookie = deviceCookie({ secureCookies: true });
    expect(cookie.name).toBe("__Host-gatehouse.device");
    const { name, value, attrs } = parseSetCookie(await cookie.issue(ADA));
    expect(name).toBe("__Host-gatehouse.device");
    expect(attrs.has("secure")).toBe(true);
    expect(attrs.has("httponly")).toBe(true);
    expect(attrs.get("path")).toBe("/");
    expect(attrs.has("domain")).toBe(false);
    expect(cookie.read(`__Host-gatehouse.device=${value}`)).toBe(value);
    // Without the prefix it could have been set by a sibling subdomain or over plain HTTP.
    expect(cookie.read(`gatehouse.device=${value}`)).toBeNull();
    expect(await cookie.deviceFor(value, ADA)).not.toBeNull();
  });

  it("follows a custom cookieName: myapp.session → myapp.device, sid → sid.device", async () => {
    expect(deviceCookie({ cookieName: "myapp.session" }).name).toBe("myapp.device");
    expect(deviceCookie({ cookieName: "myapp.session", secureCookies: true }).name).toBe("__Host-myapp.device");
    expect(deviceCookie({ cookieName: "sid" }).name).toBe("sid.device");
    expect(deviceCookie({ cookieName: "sid", secureCookies: true }).name).toBe("__Host-sid.device");
    const setCookie = await deviceCookie({ cookieName: "sid" }).issue(ADA);
    expect(Object.keys(parse(setCookie.split(";", 1)[0] as string))).toEqual(["sid.device"]);
  });

  it("never shares the session cookie's name", () => {
    for (const cookieName of ["gatehouse.session", "sid", "a.device", "x.session.session"]) {
      expect(deviceCookie({ cookieName }).name, cookieName).not.toBe(cookieName);
    }
  });
});
