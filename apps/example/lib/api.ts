import type { ApiError, ApiResult } from "gatehouse-auth/react";
import { messages } from "./messages";

/** A query string from the parameters that are set: `null`, `undefined` and `""` are left out. */
export function queryOf(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  }
  const query = search.toString();
  return query ? `?${query}` : "";
}

/**
 * One call to the app's JSON API (`/api/auth`, `/api/admin`) from the browser: its JSON body beside
 * `ok: true`, or the API's `{ error }` as a failure. It never throws: a network failure is `network_error`.
 * The browser sends the session cookie and, on writes, the `Origin` the API checks.
 */
export async function callApi<Data extends object>(
  path: string,
  init: { method?: "GET" | "POST" | "PATCH" | "DELETE"; body?: unknown } = {},
): Promise<ApiResult<Data>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? "GET",
      credentials: "same-origin",
      cache: "no-store",
      headers: {
        Accept: "application/json",
        ...(init.body !== undefined && { "Content-Type": "application/json" }),
      },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
    });
  } catch {
    return { ok: false, status: 0, error: { code: "network_error", message: messages.error("network_error") } };
  }
  const data = (await response.json().catch(() => null)) as (Data & { error?: ApiError }) | null;
  if (response.ok && data !== null) return { ok: true, ...data };
  const error = data?.error ?? { code: "internal_error", message: messages.error("internal_error") };
  return { ok: false, status: response.status, error };
}
