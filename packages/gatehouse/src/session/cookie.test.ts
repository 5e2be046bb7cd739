import { parse } from "cookie";
import { describe, expect, it } from "vitest";
import { resolveSessionConfig } from "./config.js";
import { createSessionCookie } from "./cookie.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const NOW = Date.UTC(2030, 0, 1);
const DAY_MS = 24 * 60 * 60 * 1000;

function sessionCookie(options: { secureCookies: boolean; cookieName?: string }) {
  return createSessionCookie(resolveSessionConfig({ secret: SECRET, now: () => NOW, ...options }));
}

/** `Set-Cookie` split into its name=value and lower-cased attribute names → values. */
function attributes(setCookie: string): { pair: string; attrs: Map<string, string> } {
  const [pair, ...rest] = setCookie.split(";").map((part) => part.trim());
  const attrs = new Map(
    rest.map((part) => {
      const [key, ...value] = part.split("=");
      return [(key as string).toLowerCase(), value.join("=")] as [string, string];
    }),
  );
  return { pair: pair as string, attrs };
}

describe("serialize, without secure cookies (development)", () => {
  const cookie = sessionCookie({ secureCookies: false });

  it("is HttpOnly, SameSite=Lax, Path=/ with an explicit Max-Age and no Domain", () => {
    const { pair, attrs } = attributes(cookie.serialize("value", new Date(NOW + 7 * DAY_MS)));
    expect(pair).toBe("gatehouse.session=value");
    expect(attrs.has("httponly")).toBe(true);
    expect(attrs.get("samesite")).toBe("Lax");
    expect(attrs.get("path")).toBe("/");
    expect(attrs.get("max-age")).toBe(String(7 * 24 * 60 * 60));
    expect(attrs.has("domain")).toBe(false);
  });

  it("has no Secure attribute and no __Host- prefix", () => {
    const setCookie = cookie.serialize("value", new Date(NOW + DAY_MS));
    expect(attributes(setCookie).attrs.has("secure")).toBe(false);
    expect(setCookie.startsWith("__Host-")).toBe(false);
    expect(cookie.name).toBe("gatehouse.session");
  });

  it("never sets a Max-Age above 30 days, whatever the expiry", () => {
    const { attrs } = attributes(cookie.serialize("value", new Date(NOW + 400 * DAY_MS)));
    expect(Number(attrs.get("max-age"))).toBe(2_592_000);
  });

  it("sets Max-Age=0 for an expiry in the past", () => {
    expect(attributes(cookie.serialize("value", new Date(NOW - DAY_MS))).attrs.get("max-age")).toBe("0");
  });

  it("measures Max-Age from the injected clock", () => {
    expect(attributes(cookie.serialize("value", new Date(NOW + 90_500))).attrs.get("max-age")).toBe("90");
  });

  it("uses a configured cookie name", () => {
    const custom = sessionCookie({ secureCookies: false, cookieName: "app.sid" });
    expect(custom.serialize("v", new Date(NOW + DAY_MS)).startsWith("app.sid=v;")).toBe(true);
  });
});

describe("serialize, with secure cookies (production)", () => {
  const cookie = sessionCookie({ secureCookies: true });

  it("adds Secure and the __Host- prefix, keeps Path=/ and no Domain", () => {
    const { pair, attrs } = attributes(cookie.serialize("value", new Date(NOW + DAY_MS)));
    expect(cookie.name).toBe("__Host-gatehouse.session");
    expect(pair).toBe("__Host-gatehouse.session=value");
    expect(attrs.has("secure")).toBe(true);
    expect(attrs.has("httponly")).toBe(true);
    expect(attrs.get("samesite")).toBe("Lax");
    expect(attrs.get("path")).toBe("/");
    expect(attrs.has("domain")).toBe(false);
  });
});

describe("clear", () => {
  for (const secureCookies of [false, true]) {
    it(`deletes the cookie with an empty value and Max-Age=0 (secureCookies: ${secureCookies})`, () => {
      const cookie = sessionCookie({ secureCookies });
      const { pair, attrs } = attributes(cookie.clear());
      expect(pair).toBe(`${cookie.name}=`);
      expect(attrs.get("max-age")).toBe("0");
      expect(attrs.get("path")).toBe("/");
      expect(attrs.has("httponly")).toBe(true);
      expect(attrs.has("secure")).toBe(secureCookies);
    });
  }
});

describe("read", () => {
  const cookie = sessionCookie({ secureCookies: false });

  it("finds the session cookie among others", () => {
    expect(cookie.read("theme=dark; gatehouse.session=abc.def; lang=en")).toBe("abc.def");
  });

  it("returns null without a Cookie header or without the session cookie", () => {
    expect(cookie.read(undefined)).toBeNull();
    expect(cookie.read(null)).toBeNull();
    expect(cookie.read("")).toBeNull();
    expect(cookie.read("theme=dark; lang=en")).toBeNull();
  });

  it("ignores cookies whose names only contain the session cookie's name", () => {
    expect(cookie.read("gatehouse.sessionx=1; xgatehouse.session=2")).toBeNull();
    expect(cookie.read("theme=gatehouse.session")).toBeNull();
  });

  it("returns null for an empty value", () => {
    expect(cookie.read("gatehouse.session=")).toBeNull();
  });

  it("accepts a value of 4096 characters and ignores one of 4097", () => {
    expect(cookie.read(`gatehouse.session=${"a".repeat(4096)}`)).toHaveLength(4096);
    expect(cookie.read(`gatehouse.session=${"a".repeat(4097)}`)).toBeNull();
    expect(cookie.read(`gatehouse.session=${"a".repeat(8192)}; other=1`)).toBeNull();
  });

  it("reads back what serialize wrote", () => {
    const value = "g1.AbC-_123";
    const [pair] = cookie.serialize(value, new Date(NOW + DAY_MS)).split(";");
    expect(cookie.read(pair)).toBe(value);
    expect(parse(pair as string)["gatehouse.session"]).toBe(value);
  });

  it("with secure cookies, ignores an unprefixed cookie that a sibling subdomain could have planted", () => {
    const secure = sessionCookie({ secureCookies: true });
    expect(secure.read("gatehouse.session=planted")).toBeNull();
    expect(secure.read("gatehouse.session=planted; __Host-gatehouse.session=real")).toBe("real");
  });

  it("does not throw on malformed percent-encoding", () => {
    expect(() => cookie.read("gatehouse.session=%zz%E0%A4%A")).not.toThrow();
  });
});
