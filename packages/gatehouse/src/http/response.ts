import { type FieldErrors, type GatehouseErrorCode, isGatehouseError } from "../errors.js";
import { HTTP_STATUS } from "./status.js";

/** A framework-neutral HTTP response. */
export interface HttpResponse {
  status: number;
  headers: Array<[string, string]>;
  body: string | null;
}

/** The JSON error body: `{ "error": { "code", "message", "fields"?, "methods"? } }` (`methods` on `mfa_required`). */
export interface ErrorBody {
  error: { code: GatehouseErrorCode; message: string; fields?: FieldErrors; methods?: readonly string[] };
}

/** Headers on every auth response: sessions must never be cached or sniffed. */
export const AUTH_RESPONSE_HEADERS: ReadonlyArray<[string, string]> = [
  ["Cache-Control", "no-store"],
  ["X-Content-Type-Options", "nosniff"],
];

export function jsonResponse(status: number, body: unknown, setCookies: readonly string[] = []): HttpResponse {
  return {
    status,
    headers: [
      ["Content-Type", "application/json; charset=utf-8"],
      ...AUTH_RESPONSE_HEADERS,
      ...setCookies.map((c): [string, string] => ["Set-Cookie", c]),
    ],
    body: JSON.stringify(body),
  };
}

/** A redirect: 303 (See Other) after a form post, 302 where a GET is sent on (an OAuth start or callback). */
export function redirectResponse(location: string, setCookies: readonly string[] = [], status = 303): HttpResponse {
  return {
    status,
    headers: [
      ["Location", location],
      ...AUTH_RESPONSE_HEADERS,
      ...setCookies.map((c): [string, string] => ["Set-Cookie", c]),
    ],
    body: null,
  };
}

/**
 * The JSON body for an error. Errors meant for the client keep their code and message. Misconfiguration
 * (`configuration`) and unexpected errors both become the same `internal_error` 500, which reveals nothing;
 * their details go to the server log.
 */
export function errorBody(error: unknown): { status: number; body: ErrorBody } {
  if (isGatehouseError(error) && error.code === "configuration") {
    // Its message says how the deployment is set up and how to fix it: for the operator, not for any client.
    console.error(`gatehouse: configuration error: ${error.message}`);
    return internalError();
  }
  if (isGatehouseError(error)) {
    const { fields } = error;
    const methods = error.code === "mfa_required" ? { methods: error.methods } : {};
    return {
      status: HTTP_STATUS[error.code],
      body: { error: { code: error.code, message: error.message, ...(fields ? { fields } : {}), ...methods } },
    };
  }
  console.error("gatehouse: unexpected error", error);
  return internalError();
}

function internalError(): { status: number; body: ErrorBody } {
  return { status: 500, body: { error: { code: "internal_error", message: "Something went wrong on our side." } } };
}

export function errorResponse(error: unknown): HttpResponse {
  const { status, body } = errorBody(error);
  const response = jsonResponse(status, body);
  if (isGatehouseError(error) && error.code === "rate_limited") {
    response.headers.push(["Retry-After", String(error.retryAfterSeconds)]);
  }
  // The pending cookie is what finishes the log-in: it goes with the answer that asks for the second step.
  if (isGatehouseError(error) && error.code === "mfa_required") response.headers.push(["Set-Cookie", error.setCookie]);
  return response;
}
