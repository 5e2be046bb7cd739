import { describe, expect, it } from "vitest";
import { apiStandIn } from "../../test/support/api-stand-in.js";
import { getOAuthProviders, linkProvider, listIdentities, oauthSignInUrl, unlinkIdentity } from "./index.js";

const api = apiStandIn();

const IDENTITY = { provider: "oidc", email: "ada@example.com", createdAt: "2026-01-02T03:04:05.000Z" };

describe("oauthSignInUrl", () => {
  it("points at the provider's start route, with next when one is given", () => {
    expect(oauthSignInUrl("github")).toBe("/api/auth/oauth/github");
    expect(oauthSignInUrl("oidc", { next: "/settings?tab=a&b=c" })).toBe(
      "/api/auth/oauth/oidc?next=%2Fsettings%3Ftab%3Da%26b%3Dc",
    );
    expect(oauthSignInUrl("oidc", { basePath: "/auth", next: "/dashboard" })).toBe(
      "/auth/oauth/oidc?next=%2Fdashboard",
    );
  });

  it("keeps an odd provider id inside its path segment", () => {
    expect(oauthSignInUrl("../login?x=1")).toBe("/api/auth/oauth/..%2Flogin%3Fx%3D1");
  });
});

describe("the connected-account calls", () => {
  it("lists the enabled providers", async () => {
    api.reply(200, { providers: [{ id: "oidc", name: "Acme SSO" }] });
    await expect(getOAuthProviders({ basePath: api.basePath })).resolves.toEqual({
      ok: true,
      providers: [{ id: "oidc", name: "Acme SSO" }],
    });
    expect(api.seen).toEqual([
      { method: "GET", path: "/api/auth/providers", contentType: "application/json", body: undefined },
    ]);
  });

  it("lists the identities and whether the user has a password", async () => {
    api.reply(200, { identities: [IDENTITY], hasPassword: false });
    await expect(listIdentities({ basePath: api.basePath })).resolves.toEqual({
      ok: true,
      identities: [IDENTITY],
      hasPassword: false,
    });
    expect(api.seen[0]).toMatchObject({ method: "GET", path: "/api/auth/identities" });
  });

  it("starts a link with the password, and answers the provider's URL", async () => {
    api.reply(200, { url: "https://idp.example/authorize?state=s" });
    await expect(linkProvider("oidc", { password: "pw" }, { basePath: api.basePath })).resolves.toEqual({
      ok: true,
      url: "https://idp.example/authorize?state=s",
    });
    expect(api.seen).toEqual([
      { method: "POST", path: "/api/auth/oauth/oidc/link", contentType: "application/json", body: { password: "pw" } },
    ]);
  });

  it("starts a link without a password for an account that has none", async () => {
    api.reply(200, { url: "https://idp.example/authorize" });
    await linkProvider("oidc", {}, { basePath: api.basePath });
    expect(api.seen[0]).toMatchObject({ method: "POST", body: {} });
  });

  it("unlinks with DELETE and the password", async () => {
    await expect(unlinkIdentity("a/b", { password: "pw" }, { basePath: api.basePath })).resolves.toEqual({
      ok: true,
      user: null,
    });
    expect(api.seen).toEqual([
      {
        method: "DELETE",
        path: "/api/auth/identities/a%2Fb",
        contentType: "application/json",
        body: { password: "pw" },
      },
    ]);
  });

  it.each([
    [
      "linkProvider",
      () => linkProvider("oidc", { password: "pw" }, { basePath: api.basePath }),
      409,
      "provider_already_linked",
    ],
    ["linkProvider", () => linkProvider("oidc", {}, { basePath: api.basePath }), 403, "reauthentication_required"],
    ["unlinkIdentity", () => unlinkIdentity("oidc", {}, { basePath: api.basePath }), 409, "last_sign_in_method"],
    ["unlinkIdentity", () => unlinkIdentity("oidc", { password: "x" }, { basePath: api.basePath }), 404, "not_found"],
    ["listIdentities", () => listIdentities({ basePath: api.basePath }), 401, "unauthenticated"],
  ] as const)("%s answers the server's failure (%i %s)", async (_name, call, status, code) => {
    const error = { code, message: "From the server." };
    api.reply(status, { error });
    await expect(call()).resolves.toEqual({ ok: false, status, error });
  });

  it("answers network_error with status 0 when the server cannot be reached", async () => {
    const unreachable = "http://127.0.0.1:9/api/auth";
    for (const call of [
      () => getOAuthProviders({ basePath: unreachable }),
      () => linkProvider("oidc", {}, { basePath: unreachable }),
    ]) {
      await expect(call()).resolves.toMatchObject({ ok: false, status: 0, error: { code: "network_error" } });
    }
  });
});
