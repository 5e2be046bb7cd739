import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { ConfigurationError } from "../errors.js";
import { createSqliteStore } from "../stores/sqlite.js";
import { createGatehouse } from "./gatehouse.js";
import { discord, github, gitlab, google, microsoft, oauth2, oidc, providersFromEnv } from "./oauth-providers.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const store = createSqliteStore({ url: ":memory:" });

afterAll(async () => {
  await store.close();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

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

type Provider = ReturnType<typeof providersFromEnv>[number];

/** A gatehouse with these providers; a factory's refusal and createGatehouse's are the same to the caller. */
function gatehouseWith(providers: () => Provider[], url: string | null = "https://app.example.com") {
  return createGatehouse({ store, secret: SECRET, ...(url !== null && { url }), providers: providers() });
}

const ids = (providers: readonly { id: string }[]) => providers.map((p) => p.id);

/** Every provider's variables, set. */
const FULL_ENV: Record<string, string> = {
  GATEHOUSE_OIDC_ISSUER: "https://sso.example.com",
  GATEHOUSE_OIDC_CLIENT_ID: "oidc-id",
  GATEHOUSE_OIDC_CLIENT_SECRET: "oidc-secret",
  GOOGLE_CLIENT_ID: "google-id",
  GOOGLE_CLIENT_SECRET: "google-secret",
  MICROSOFT_CLIENT_ID: "microsoft-id",
  MICROSOFT_CLIENT_SECRET: "microsoft-secret",
  MICROSOFT_TENANT_ID: "contoso.onmicrosoft.com",
  GITLAB_CLIENT_ID: "gitlab-id",
  GITLAB_CLIENT_SECRET: "gitlab-secret",
  GITHUB_CLIENT_ID: "github-id",
  GITHUB_CLIENT_SECRET: "github-secret",
  DISCORD_CLIENT_ID: "discord-id",
  DISCORD_CLIENT_SECRET: "discord-secret",
};

/** Each provider's required variables. */
const REQUIRED: Record<string, string[]> = {
  oidc: ["GATEHOUSE_OIDC_ISSUER", "GATEHOUSE_OIDC_CLIENT_ID", "GATEHOUSE_OIDC_CLIENT_SECRET"],
  google: ["GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"],
  microsoft: ["MICROSOFT_CLIENT_ID", "MICROSOFT_CLIENT_SECRET", "MICROSOFT_TENANT_ID"],
  gitlab: ["GITLAB_CLIENT_ID", "GITLAB_CLIENT_SECRET"],
  github: ["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"],
  discord: ["DISCORD_CLIENT_ID", "DISCORD_CLIENT_SECRET"],
};

const only = (id: string): Record<string, string> =>
  Object.fromEntries((REQUIRED[id] ?? []).map((name) => [name, FULL_ENV[name] as string]));

describe("providersFromEnv", () => {
  it("enables nothing without variables", () => {
    expect(providersFromEnv({})).toEqual([]);
  });

  it.each(Object.keys(REQUIRED))("enables %s when its variables are set, and only it", (id) => {
    expect(ids(providersFromEnv(only(id)))).toEqual([id]);
  });

  it("enables all six with every variable set", () => {
    expect(ids(providersFromEnv(FULL_ENV)).sort()).toEqual(
      ["discord", "github", "gitlab", "google", "microsoft", "oidc"].sort(),
    );
  });

  it("reads process.env by default", () => {
    for (const [name, value] of Object.entries(only("github"))) vi.stubEnv(name, value);
    for (const name of [...Object.keys(FULL_ENV), "GITHUB_ENTERPRISE_URL", "GITLAB_URL", "GATEHOUSE_OIDC_NAME"]) {
      if (!(name in only("github"))) vi.stubEnv(name, undefined);
    }
    expect(ids(providersFromEnv())).toEqual(["github"]);
  });

  it('labels the OIDC provider "Single sign-on" unless GATEHOUSE_OIDC_NAME says otherwise', () => {
    expect(providersFromEnv(only("oidc")).map((p) => p.name)).toEqual(["Single sign-on"]);
    expect(providersFromEnv({ ...only("oidc"), GATEHOUSE_OIDC_NAME: "Acme SSO" }).map((p) => p.name)).toEqual([
      "Acme SSO",
    ]);
  });

  it("gives every preset a human name for its button", () => {
    const names = Object.fromEntries(providersFromEnv(FULL_ENV).map((p) => [p.id, p.name]));
    expect(names).toMatchObject({ google: "Google", github: "GitHub", gitlab: "GitLab", discord: "Discord" });
    expect(names.microsoft).toMatch(/Microsoft/);
  });

  // Half a configuration is a mistake to report at start-up, never a provider half-enabled (or silently off).
  it.each(Object.entries(REQUIRED).flatMap(([id, names]) => names.map((name) => [id, name] as const)))(
    "refuses %s without %s, naming what to set",
    (id, missing) => {
      for (const value of [undefined, ""]) {
        const env: Record<string, string> = { ...only(id) };
        if (value === undefined) delete env[missing];
        else env[missing] = value;
        const error = configurationError(() => providersFromEnv(env));
        // Microsoft's tenant is named as the factory option, not as the variable.
        expect(error.message).toMatch(missing === "MICROSOFT_TENANT_ID" ? /tenant/i : new RegExp(missing));
        for (const secret of Object.values(env).filter((v) => v.endsWith("-secret"))) {
          expect(error.message).not.toContain(secret);
        }
      }
    },
  );

  it("takes empty variables for unset ones", () => {
    const empty = Object.fromEntries(Object.keys(FULL_ENV).map((name) => [name, ""]));
    expect(
      providersFromEnv({ ...empty, GATEHOUSE_OIDC_NAME: "Acme", GITLAB_URL: "", GITHUB_ENTERPRISE_URL: "" }),
    ).toEqual([]);
    expect(ids(providersFromEnv({ ...only("github"), GITHUB_ENTERPRISE_URL: "" }))).toEqual(["github"]);
  });

  it("keeps a fixed order whatever the order of the variables", () => {
    const reversed = Object.fromEntries(Object.entries(FULL_ENV).reverse());
    expect(ids(providersFromEnv(reversed))).toEqual(["oidc", "google", "microsoft", "gitlab", "github", "discord"]);
  });

  it("passes the optional GitHub Enterprise and GitLab URLs through, refusing plain http off loopback", () => {
    expect(ids(providersFromEnv({ ...only("github"), GITHUB_ENTERPRISE_URL: "https://github.example.com" }))).toEqual([
      "github",
    ]);
    expect(ids(providersFromEnv({ ...only("gitlab"), GITLAB_URL: "https://gitlab.example.com" }))).toEqual(["gitlab"]);
    configurationError(() =>
      providersFromEnv({ ...only("github"), GITHUB_ENTERPRISE_URL: "http://github.example.com" }),
    );
    configurationError(() => providersFromEnv({ ...only("gitlab"), GITLAB_URL: "http://gitlab.example.com" }));
    configurationError(() => providersFromEnv({ ...only("oidc"), GATEHOUSE_OIDC_ISSUER: "http://sso.example.com" }));
  });
});

describe("provider factories", () => {
  it("give the documented ids and names", () => {
    const providers = [
      oidc({ issuer: "https://sso.example.com", clientId: "a", clientSecret: "b" }),
      oidc({ issuer: "https://sso.example.com", clientId: "a", clientSecret: "b", id: "okta", name: "Okta" }),
      google({ clientId: "a", clientSecret: "b" }),
      microsoft({ clientId: "a", clientSecret: "b", tenantId: "contoso.onmicrosoft.com" }),
      gitlab({ clientId: "a", clientSecret: "b" }),
      github({ clientId: "a", clientSecret: "b" }),
      discord({ clientId: "a", clientSecret: "b" }),
      oauth2({
        id: "acme",
        name: "Acme",
        authorizationEndpoint: "https://acme.example.com/authorize",
        tokenEndpoint: "https://acme.example.com/token",
        clientId: "a",
        clientSecret: "b",
        scopes: ["profile"],
        profile: async () => ({ subject: "1", email: null, emailVerified: false, name: null }),
      }),
    ];
    expect(providers.map((p) => [p.id, p.name])).toEqual([
      ["oidc", "Single sign-on"],
      ["okta", "Okta"],
      ["google", "Google"],
      ["microsoft", expect.stringMatching(/Microsoft/)],
      ["gitlab", "GitLab"],
      ["github", "GitHub"],
      ["discord", "Discord"],
      ["acme", "Acme"],
    ]);
  });

  const LOOPBACK = ["http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:3000", "http://localhost:3000"];
  const OFF_LOOPBACK = [
    "http://sso.example.com",
    "http://10.0.0.1",
    "http://192.168.1.1:8080",
    "http://localhost.example.com",
    "http://127.0.0.1.nip.io",
  ];

  /** Each way to give a provider a URL: oidc's issuer, GitHub's and GitLab's base, oauth2's endpoints. */
  const withUrl: Array<[string, (url: string) => Provider]> = [
    ["oidc issuer", (url) => oidc({ issuer: url, clientId: "a", clientSecret: "b" })],
    ["github enterpriseUrl", (url) => github({ clientId: "a", clientSecret: "b", enterpriseUrl: url })],
    ["gitlab url", (url) => gitlab({ clientId: "a", clientSecret: "b", url })],
    [
      "oauth2 endpoints",
      (url) =>
        oauth2({
          id: "acme",
          name: "Acme",
          authorizationEndpoint: `${url}/authorize`,
          tokenEndpoint: `${url}/token`,
          clientId: "a",
          clientSecret: "b",
          scopes: [],
          profile: async () => ({ subject: "1", email: null, emailVerified: false, name: null }),
        }),
    ],
  ];

  describe.each(withUrl)("%s", (_label, make) => {
    it.each(LOOPBACK)("accepts http on loopback: %s", (url) => {
      expect(gatehouseWith(() => [make(url)]).oauthProviders()).toHaveLength(1);
    });

    it.each(OFF_LOOPBACK)("refuses http off loopback: %s", (url) => {
      configurationError(() => gatehouseWith(() => [make(url)]));
    });

    it("accepts https anywhere", () => {
      expect(gatehouseWith(() => [make("https://sso.example.com")]).oauthProviders()).toHaveLength(1);
    });

    it.each(["not a url", "ftp://sso.example.com", "javascript:alert(1)"])("refuses %s", (url) => {
      configurationError(() => gatehouseWith(() => [make(url)]));
    });
  });

  it("refuses an oauth2 provider whose token endpoint alone is plain http off loopback", () => {
    configurationError(() =>
      gatehouseWith(() => [
        oauth2({
          id: "acme",
          name: "Acme",
          authorizationEndpoint: "https://acme.example.com/authorize",
          tokenEndpoint: "http://acme.example.com/token",
          clientId: "a",
          clientSecret: "b",
          scopes: [],
          profile: async () => ({ subject: "1", email: null, emailVerified: false, name: null }),
        }),
      ]),
    );
  });
});

describe("the presets' endpoints", () => {
  const keys = { clientId: "a", clientSecret: "b" };

  it("GitHub: github.com, or GitHub Enterprise Server's layout at enterpriseUrl", () => {
    expect(github(keys)).toMatchObject({
      kind: "oauth2",
      authorizationEndpoint: "https://github.com/login/oauth/authorize",
      tokenEndpoint: "https://github.com/login/oauth/access_token",
      // The `iss` github.com sends in authorization responses (RFC 9207).
      issuer: "https://github.com/login/oauth",
      storeTokens: false,
    });
    expect(github(keys).scopes).toContain("user:email");
    for (const enterpriseUrl of ["https://ghe.example.com", "https://ghe.example.com/"]) {
      expect(github({ ...keys, enterpriseUrl })).toMatchObject({
        authorizationEndpoint: "https://ghe.example.com/login/oauth/authorize",
        tokenEndpoint: "https://ghe.example.com/login/oauth/access_token",
        issuer: "https://ghe.example.com/login/oauth",
      });
    }
  });

  it("OpenID presets: Google's, the Microsoft tenant's and GitLab's issuers", () => {
    expect(google(keys)).toMatchObject({ kind: "oidc", issuer: "https://accounts.google.com" });
    expect(microsoft({ ...keys, tenantId: "contoso.onmicrosoft.com" })).toMatchObject({
      kind: "oidc",
      issuer: "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
    });
    expect(gitlab(keys)).toMatchObject({ kind: "oidc", issuer: "https://gitlab.com" });
    expect(gitlab({ ...keys, url: "https://gitlab.example.com" })).toMatchObject({
      issuer: "https://gitlab.example.com",
    });
    expect(oidc({ ...keys, issuer: "https://sso.example.com" }).scopes).toEqual(["openid", "email", "profile"]);
  });

  it("refuses a Microsoft tenant that is missing, malformed or multi-tenant", () => {
    for (const tenantId of ["", "a/b", "common", "Organizations", "consumers"]) {
      configurationError(() => microsoft({ ...keys, tenantId }));
    }
  });

  it("refuses a provider id that cannot be a path segment, and a missing client id", () => {
    for (const id of ["", "a/b", "a b", "x".repeat(65), ".."]) {
      configurationError(() => oidc({ ...keys, issuer: "https://sso.example.com", id }));
    }
    configurationError(() => github({ clientId: "", clientSecret: "b" }));
  });
});

/**
 * GitHub's profile mapper, given the answers of `/user` and `/user/emails` (the whole flow is in
 * test/oauth-github.test.ts, against a stand-in of GitHub).
 */
describe("the GitHub profile", () => {
  const USER = { id: 583231, login: "octocat", name: "The Octocat", email: "public@example.com" };
  type Email = { email: string; primary: boolean; verified: boolean; visibility: string | null };

  async function profileOf(user: unknown, emails: unknown, enterpriseUrl?: string) {
    const provider = github({ clientId: "a", clientSecret: "b", ...(enterpriseUrl && { enterpriseUrl }) });
    const urls: string[] = [];
    const profile = await provider.profile({
      accessToken: "gho_x",
      async fetchJson(url) {
        urls.push(url);
        if (url.endsWith("/user")) return user;
        if (url.endsWith("/user/emails")) return emails;
        throw new Error(`unexpected ${url}`);
      },
    });
    return { profile, urls: urls.sort() };
  }

  const email = (address: string, primary: boolean, verified: boolean): Email => ({
    email: address,
    primary,
    verified,
    visibility: "private",
  });

  it("reads api.github.com, or /api/v3 of GitHub Enterprise Server", async () => {
    expect((await profileOf(USER, [])).urls).toEqual([
      "https://api.github.com/user",
      "https://api.github.com/user/emails",
    ]);
    expect((await profileOf(USER, [], "http://127.0.0.1:9999")).urls).toEqual([
      "http://127.0.0.1:9999/api/v3/user",
      "http://127.0.0.1:9999/api/v3/user/emails",
    ]);
  });

  it.each<[string, Email[], string | null]>([
    [
      "the primary, verified one",
      [email("other@example.com", false, true), email("me@example.com", true, true)],
      "me@example.com",
    ],
    [
      "none: the primary is unverified",
      [email("me@example.com", true, false), email("other@example.com", false, true)],
      null,
    ],
    ["none: the verified one is not primary", [email("other@example.com", false, true)], null],
    ["none: no emails", [], null],
  ])("takes %s", async (_label, emails, expected) => {
    const { profile } = await profileOf(USER, emails);
    expect(profile).toEqual({
      subject: "583231",
      email: expected,
      emailVerified: expected !== null,
      name: "The Octocat",
    });
  });

  it("never takes the public profile email, and falls back to the login for the name", async () => {
    const { profile } = await profileOf({ ...USER, name: null }, {});
    expect(profile).toEqual({ subject: "583231", email: null, emailVerified: false, name: "octocat" });
  });

  it("gives no subject without a numeric id", async () => {
    const { profile } = await profileOf({ login: "octocat" }, [email("me@example.com", true, true)]);
    expect(profile.subject).toBe("");
  });
});

describe("createGatehouse with providers", () => {
  const githubProvider = () => github({ clientId: "a", clientSecret: "b" });

  it("lists them, id and name, in the configured order", () => {
    const gatehouse = gatehouseWith(() => [
      githubProvider(),
      oidc({ issuer: "https://sso.example.com", clientId: "a", clientSecret: "b", name: "Acme SSO" }),
      google({ clientId: "a", clientSecret: "b" }),
    ]);
    expect(gatehouse.oauthProviders()).toEqual([
      { id: "github", name: "GitHub" },
      { id: "oidc", name: "Acme SSO" },
      { id: "google", name: "Google" },
    ]);
  });

  it("lists none without providers", () => {
    expect(createGatehouse({ store, secret: SECRET }).oauthProviders()).toEqual([]);
  });

  it("needs url: the redirect_uri is built on it, never on Host", () => {
    const error = configurationError(() => gatehouseWith(() => [githubProvider()], null));
    expect(error.message).toMatch(/url|GATEHOUSE_URL/);
    // An empty list needs none.
    expect(() => createGatehouse({ store, secret: SECRET, providers: [] })).not.toThrow();
  });

  it("refuses two providers with one id", () => {
    configurationError(() => gatehouseWith(() => [githubProvider(), githubProvider()]));
    configurationError(() =>
      gatehouseWith(() => [
        oidc({ issuer: "https://a.example.com", clientId: "a", clientSecret: "b" }),
        oidc({ issuer: "https://b.example.com", clientId: "c", clientSecret: "d" }),
      ]),
    );
    configurationError(() =>
      gatehouseWith(() => [
        githubProvider(),
        oidc({ issuer: "https://sso.example.com", clientId: "a", clientSecret: "b", id: "github" }),
      ]),
    );
  });
});
