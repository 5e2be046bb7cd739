import { type Client, createClient } from "./http";

/**
 * One cookie jar used against several instances of the app, like a browser behind a load balancer:
 * `on(url)` is a {@link Client} for that instance (it sends that instance's own Origin on writes), and
 * every such client reads and updates the same session cookie, so a cookie rotated by one instance is
 * the one sent to the next.
 */
export interface SharedClient {
  cookie: string | undefined;
  on(baseUrl: string): Client;
}

export function createSharedClient(): SharedClient {
  let cookie: string | undefined;
  const clients = new Map<string, Client>();
  return {
    get cookie() {
      return cookie;
    },
    set cookie(value) {
      cookie = value;
    },
    on(baseUrl) {
      let client = clients.get(baseUrl);
      if (!client) {
        client = createClient(baseUrl);
        Object.defineProperty(client, "cookie", {
          get: () => cookie,
          set: (value: string | undefined) => {
            cookie = value;
          },
          enumerable: true,
        });
        clients.set(baseUrl, client);
      }
      return client;
    },
  };
}
