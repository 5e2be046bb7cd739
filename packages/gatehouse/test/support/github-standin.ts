/**
 * A stand-in for GitHub's OAuth app endpoints and the two REST endpoints a sign-in reads, on a node:http
 * server of 127.0.0.1, in the GitHub Enterprise Server layout (`/login/oauth/…` on the host, the REST API
 * under `/api/v3`), so the `github({ enterpriseUrl })` preset can be pointed at it:
 *
 * - `GET /login/oauth/authorize`: checks client_id, redirect_uri (the registered callback), state and a
 *   PKCE S256 challenge, "signs in" the configured account, and 302s back with `code`, `state` and `iss`
 *   (RFC 9207, as github.com sends `iss=https://github.com/login/oauth`); or, when told to, with
 *   `error=access_denied` as GitHub does when the user clicks Cancel.
 * - `POST /login/oauth/access_token`: a form body; the client authenticates with client_secret in the body
 *   or HTTP Basic. Checks the code (single use, ten minutes), the redirect_uri, and the PKCE code_verifier.
 *   Like GitHub, every refusal is a **200** with `{ error, error_description, error_uri }` (in the format the
 *   Accept header asks for), and the scope in an answer is comma-separated.
 * - `GET /api/v3/user` and `GET /api/v3/user/emails`: a Bearer (or `token`) access token; 401 "Bad
 *   credentials" otherwise, 403 without a User-Agent, and `/user/emails` 404s unless the token has the
 *   `user:email` (or `user`) scope.
 *
 * What happened is kept in `requests`, and per-test behaviour is set on the object (`account`, `nextAuthorize`,
 * `nextTokenError`).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** `GET /user` as GitHub answers it (the fields a sign-in may read, and a few it should not rely on). */
export interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
  /** The *public* profile email, which is neither necessarily verified nor primary: never to be trusted. */
  email?: string | null;
}

/** One entry of `GET /user/emails`. */
export interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
  visibility: "public" | "private" | null;
}

/** The account that "signs in" at the authorize endpoint. */
export interface GitHubAccount {
  user: GitHubUser;
  emails: GitHubEmail[];
}

/** One request the stand-in received, as it received it. */
export interface StandinRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The form fields of a token request. */
  form?: Record<string, string>;
}

export interface GitHubStandin {
  /** `http://127.0.0.1:PORT`: the `enterpriseUrl`. */
  url: string;
  clientId: string;
  clientSecret: string;
  /** The OAuth app's registered callback URL; an authorize or token request must send exactly this. */
  callbackUrl: string;
  /** Who signs in at the next authorize request (read then, so a later change affects later flows only). */
  account: GitHubAccount;
  /**
   * The `iss` of authorization responses (RFC 9207), success and error alike: GitHub's is
   * `https://github.com/login/oauth`, so the stand-in's default is `${url}/login/oauth`; `null` sends none.
   */
  iss: string | null;
  /** What the next authorize request does: approve (default) or answer `error=access_denied`. Reset after use. */
  nextAuthorize: "approve" | "deny";
  /**
   * When set, the next token request is answered 200 with this `error` (e.g. `bad_verification_code`), as
   * GitHub answers a refused exchange. Reset after use.
   */
  nextTokenError: string | null;
  /**
   * A status the REST endpoint answers instead of its JSON (with GitHub's `{ message }` body), until set back;
   * e.g. `{ "/user/emails": 503 }`.
   */
  apiStatus: Partial<Record<"/user" | "/user/emails", number>>;
  /** Every request received, oldest first. */
  requests: StandinRequest[];
  /** The access tokens issued, oldest first. */
  issuedTokens: string[];
  /** The authorization codes issued, oldest first. */
  issuedCodes: string[];
  /** Answers of the token endpoint, oldest first: `{ error }` or `{ access_token }`. */
  tokenAnswers: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface GitHubStandinOptions {
  clientId?: string;
  clientSecret?: string;
  /** Who signs in; default octocat (id 1) with one primary, verified email. */
  account?: GitHubAccount;
  /** Default the clock; codes live ten minutes as GitHub's do. */
  now?: () => number;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scope: string;
  account: GitHubAccount;
  expiresAt: number;
  used: boolean;
}

interface IssuedToken {
  scope: string;
  account: GitHubAccount;
}

const CODE_LIFETIME_MS = 10 * 60 * 1000;
const DOCS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";

/** An account with one primary, verified email: the case a sign-in can use. */
export function githubAccount(id: number, login: string, email: string, name: string | null = null): GitHubAccount {
  return {
    user: { id, login, name, email: null },
    emails: [{ email, primary: true, verified: true, visibility: "private" }],
  };
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(
  res: http.ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: http.OutgoingHttpHeaders = {},
) {
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(body), headers);
}

/** The token endpoint answers in the format the Accept header asks for: JSON, or GitHub's default, a form. */
function sendTokenAnswer(req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, string>) {
  if (/application\/json/i.test(req.headers.accept ?? "")) sendJson(res, 200, body);
  else send(res, 200, "application/x-www-form-urlencoded; charset=utf-8", new URLSearchParams(body).toString());
}

/** The base64url SHA-256 of a PKCE verifier: the S256 challenge it answers. */
export function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

export async function startGitHubStandin(options: GitHubStandinOptions = {}): Promise<GitHubStandin> {
  const now = options.now ?? Date.now;
  const codes = new Map<string, IssuedCode>();
  const tokens = new Map<string, IssuedToken>();
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const standin: GitHubStandin = {
    url: `http://127.0.0.1:${port}`,
    clientId: options.clientId ?? `Iv1.${randomBytes(8).toString("hex")}`,
    clientSecret: options.clientSecret ?? randomBytes(20).toString("hex"),
    callbackUrl: "",
    iss: `http://127.0.0.1:${port}/login/oauth`,
    account: options.account ?? githubAccount(1, "octocat", "octocat@example.com", "The Octocat"),
    nextAuthorize: "approve",
    nextTokenError: null,
    apiStatus: {},
    requests: [],
    issuedTokens: [],
    issuedCodes: [],
    tokenAnswers: [],
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };

  /** GitHub shows an error page, not a redirect, for a request it cannot trust to send anywhere. */
  function authorizeErrorPage(res: http.ServerResponse, what: string) {
    send(res, 400, "text/html; charset=utf-8", `<!doctype html><title>GitHub</title><p>${what}</p>`);
  }

  function authorize(url: URL, res: http.ServerResponse) {
    const q = url.searchParams;
    if (q.get("client_id") !== standin.clientId) return authorizeErrorPage(res, "unknown client_id");
    const redirectUri = q.get("redirect_uri") ?? standin.callbackUrl;
    if (standin.callbackUrl === "" || redirectUri !== standin.callbackUrl) {
      return authorizeErrorPage(res, "The redirect_uri MUST match the registered callback URL for this application.");
    }
    const back = new URL(redirectUri);
    const state = q.get("state");
    if (state !== null) back.searchParams.set("state", state);
    if (standin.iss !== null) back.searchParams.set("iss", standin.iss);
    const fail = (error: string, description: string) => {
      back.searchParams.set("error", error);
      back.searchParams.set("error_description", description);
      back.searchParams.set("error_uri", "https://docs.github.com/apps/troubleshooting-authorization-request-errors");
      res.writeHead(302, { Location: back.toString() });
      res.end();
    };
    // GitHub lets the state out; the stand-in insists, because a client without one has no CSRF defence.
    if (!state) return fail("invalid_request", "state is required by this stand-in.");
    const responseType = q.get("response_type");
    if (responseType !== null && responseType !== "code") return fail("unsupported_response_type", responseType);
    const codeChallenge = q.get("code_challenge");
    // GitHub accepts only S256; the stand-in also insists on PKCE being used at all.
    if (!codeChallenge || q.get("code_challenge_method") !== "S256" || !/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
      return fail("invalid_request", "code_challenge with code_challenge_method=S256 is required.");
    }
    if (standin.nextAuthorize === "deny") {
      standin.nextAuthorize = "approve";
      return fail("access_denied", "The user has denied your application access.");
    }
    const code = randomBytes(10).toString("hex");
    // GitHub takes space- (or comma-) separated scopes and reports them comma-separated.
    const scope = (q.get("scope") ?? "")
      .split(/[\s,]+/)
      .filter(Boolean)
      .join(",");
    codes.set(code, {
      clientId: standin.clientId,
      redirectUri,
      codeChallenge,
      scope,
      account: structuredClone(standin.account),
      expiresAt: now() + CODE_LIFETIME_MS,
      used: false,
    });
    standin.issuedCodes.push(code);
    back.searchParams.set("code", code);
    res.writeHead(302, { Location: back.toString() });
    res.end();
  }

  async function accessToken(req: http.IncomingMessage, res: http.ServerResponse, entry: StandinRequest) {
    const type = req.headers["content-type"] ?? "";
    const raw = await readBody(req);
    const form = Object.fromEntries(
      /application\/x-www-form-urlencoded/i.test(type)
        ? new URLSearchParams(raw)
        : /application\/json/i.test(type)
          ? Object.entries(JSON.parse(raw || "{}") as Record<string, string>)
          : [],
    );
    entry.form = form;
    const refuse = (error: string, description: string) => {
      const body = { error, error_description: description, error_uri: `${DOCS}#${error.replaceAll("_", "-")}` };
      standin.tokenAnswers.push(body);
      sendTokenAnswer(req, res, body);
    };

    let clientId = form.client_id;
    let clientSecret = form.client_secret;
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      // RFC 6749 §2.3.1: both halves are form-urlencoded before they are joined.
      clientId = decodeURIComponent(decoded.slice(0, colon).replaceAll("+", " "));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1).replaceAll("+", " "));
    }
    if (
      clientId !== standin.clientId ||
      clientSecret === undefined ||
      !sameSecret(clientSecret, standin.clientSecret)
    ) {
      return refuse("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
    }
    if (standin.nextTokenError !== null) {
      const error = standin.nextTokenError;
      standin.nextTokenError = null;
      return refuse(error, "The code passed is incorrect or expired.");
    }
    if (form.grant_type !== undefined && form.grant_type !== "authorization_code") {
      return refuse("unsupported_grant_type", "The grant type is not supported.");
    }
    const issued = codes.get(form.code ?? "");
    if (!issued || issued.used || issued.expiresAt <= now() || issued.clientId !== clientId) {
      // A code is used up by its first exchange, whether that one succeeded or not.
      if (issued) issued.used = true;
      return refuse("bad_verification_code", "The code passed is incorrect or expired.");
    }
    issued.used = true;
    if (form.redirect_uri !== undefined && form.redirect_uri !== issued.redirectUri) {
      return refuse(
        "redirect_uri_mismatch",
        "The redirect_uri MUST match the registered callback URL for this application.",
      );
    }
    // The stand-in requires the redirect_uri (RFC 6749 §4.1.3 does, when authorize had one).
    if (form.redirect_uri === undefined) return refuse("redirect_uri_mismatch", "redirect_uri is required.");
    const verifier = form.code_verifier;
    if (!verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || s256(verifier) !== issued.codeChallenge) {
      return refuse("bad_verification_code", "The code_verifier does not match the code_challenge.");
    }
    const token = `gho_${randomBytes(18).toString("base64url")}`;
    const scope = issued.scope || "";
    tokens.set(token, { scope, account: issued.account });
    standin.issuedTokens.push(token);
    const body = { access_token: token, token_type: "bearer", scope };
    standin.tokenAnswers.push(body);
    sendTokenAnswer(req, res, body);
  }

  function api(req: http.IncomingMessage, res: http.ServerResponse, path: string) {
    const docs = { documentation_url: "https://docs.github.com/rest", status: "" };
    if (!req.headers["user-agent"]) {
      return send(
        res,
        403,
        "text/plain",
        "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.",
      );
    }
    const auth = /^(?:Bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const token = auth?.[1] ? tokens.get(auth[1]) : undefined;
    if (!token) return sendJson(res, 401, { message: "Bad credentials", ...docs, status: "401" });
    const headers = { "X-OAuth-Scopes": token.scope.split(",").join(", "), "X-GitHub-Media-Type": "github.v3" };
    const forced = standin.apiStatus[path.slice("/api/v3".length) as "/user" | "/user/emails"];
    if (forced !== undefined)
      return sendJson(res, forced, { message: "Server Error", ...docs, status: String(forced) });
    const { user, emails } = token.account;
    if (path === "/api/v3/user") {
      return sendJson(
        res,
        200,
        {
          login: user.login,
          id: user.id,
          node_id: Buffer.from(`04:User${user.id}`).toString("base64"),
          avatar_url: `${standin.url}/avatars/u/${user.id}`,
          html_url: `${standin.url}/${user.login}`,
          type: "User",
          site_admin: false,
          name: user.name,
          company: null,
          email: user.email ?? null,
          created_at: "2011-01-25T18:44:36Z",
        },
        headers,
      );
    }
    const scopes = token.scope.split(",");
    if (!scopes.includes("user:email") && !scopes.includes("user")) {
      return sendJson(res, 404, { message: "Not Found", ...docs, status: "404" }, headers);
    }
    return sendJson(res, 200, emails, headers);
  }

  server.on("request", (req, res) => {
    const url = new URL(req.url ?? "/", standin.url);
    const entry: StandinRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers };
    standin.requests.push(entry);
    const route = `${req.method} ${url.pathname}`;
    const answer = async () => {
      if (route === "GET /login/oauth/authorize") return authorize(url, res);
      if (route === "POST /login/oauth/access_token") return accessToken(req, res, entry);
      if (route === "GET /api/v3/user" || route === "GET /api/v3/user/emails") return api(req, res, url.pathname);
      sendJson(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
    };
    answer().catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: String(error) });
      else res.end();
    });
  });
  return standin;
}
