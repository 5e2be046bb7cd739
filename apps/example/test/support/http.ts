/** A small HTTP client for the tests: sends the app's Origin on writes and keeps the session cookie by hand. */
export interface Client {
  /** The `name=value` pair of the current session cookie, or `undefined`. */
  cookie: string | undefined;
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

export function sessionCookieName(setCookie: string): string {
  return setCookie.slice(0, setCookie.indexOf("="));
}

export function createClient(baseUrl: string): Client {
  const client: Client = {
    cookie: undefined,
    async request(path, init = {}) {
      const headers = new Headers(init.headers);
      const method = (init.method ?? (init.json !== undefined ? "POST" : "GET")).toUpperCase();
      if (method !== "GET" && method !== "HEAD" && !headers.has("origin"))
        headers.set("origin", new URL(baseUrl).origin);
      if (client.cookie && !headers.has("cookie")) headers.set("cookie", client.cookie);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set("content-type", "application/json");
        body = JSON.stringify(init.json);
      }
      const response = await fetch(new URL(path, baseUrl), { ...init, method, headers, body, redirect: "manual" });
      for (const setCookie of response.headers.getSetCookie()) {
        if (!/gatehouse\.session=/.test(setCookie)) continue;
        const pair = setCookie.split(";", 1)[0] as string;
        client.cookie = /max-age=0/i.test(setCookie) || pair.endsWith("=") ? undefined : pair;
      }
      return response;
    },
  };
  return client;
}

let counter = 0;
/** A fresh, valid email address for one test. */
export function uniqueEmail(prefix = "user"): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}@example.com`;
}

export const PASSWORD = "correct horse battery staple";
