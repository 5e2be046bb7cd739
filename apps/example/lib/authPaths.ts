import type { SecondFactorMethod } from "gatehouse-auth/react";

/** Where a successful log-in or sign-up goes when no (safe) `next` was asked for. */
export const DEFAULT_NEXT = "/dashboard";

/**
 * Where log-out lands: the log-in page, told to say "You have been signed out". The JSON call navigates here
 * and the plain form post is redirected here (the auth API route's `pages.afterLogout`).
 */
export const SIGNED_OUT_PATH = "/login?signedOut=1";

/** `path` with `?next=` carried over, so switching between log-in and sign-up keeps the destination. */
export function pathWithNext(path: string, next: string): string {
  return next === DEFAULT_NEXT ? path : `${path}?${new URLSearchParams({ next })}`;
}

/**
 * Where a sign-up goes: `next`, with `welcome=1` when that is the dashboard, so it greets a new account
 * instead of saying "Welcome back". It rides in the sign-up form's `next` field, so it works without
 * JavaScript too (the API redirects to that field's value).
 */
export function welcomePath(next: string): string {
  const url = new URL(next, "http://app.invalid");
  if (url.pathname !== DEFAULT_NEXT) return next;
  url.searchParams.set("welcome", "1");
  return url.pathname + url.search + url.hash;
}

/**
 * `next` without the flag {@link welcomePath} added: a failed plain sign-up comes back with it in `?next=`,
 * and the page's "Log in instead" link must not greet an existing account as a new one.
 */
export function withoutWelcome(next: string): string {
  const url = new URL(next, "http://app.invalid");
  if (!url.searchParams.has("welcome")) return next;
  url.searchParams.delete("welcome");
  return url.pathname + url.search + url.hash;
}

/** Every way to finish a log-in, as the verify page offers them when it was not told which (a plain form post). */
export const ALL_SECOND_FACTORS: readonly SecondFactorMethod[] = ["totp", "recovery_code", "passkey"];

/**
 * The log-in's second step, keeping `next`. The methods the server offered ride in the URL because the page
 * cannot read them: the pending log-in is an HttpOnly cookie. `use: "recovery"` asks for a recovery code.
 */
export function secondStepPath(step: {
  next: string;
  methods?: readonly SecondFactorMethod[];
  use?: "recovery";
}): string {
  const params = new URLSearchParams();
  if (step.next !== DEFAULT_NEXT) params.set("next", step.next);
  if (step.methods) params.set("methods", step.methods.join(","));
  if (step.use) params.set("use", step.use);
  const query = params.toString();
  return query ? `/login/verify?${query}` : "/login/verify";
}

/** The methods in a `?methods=` query, in the server's order; all of them when it names none that exist. */
export function methodsOf(query: unknown): SecondFactorMethod[] {
  const named = typeof query === "string" ? query.split(",") : [];
  const methods = ALL_SECOND_FACTORS.filter((method) => named.includes(method));
  return methods.length > 0 ? methods : [...ALL_SECOND_FACTORS];
}

/**
 * Back to the log-in page when the second step came too late (the pending log-in lasts five minutes): it
 * says why, and keeps `next`.
 */
export function loginAgainPath(next: string): string {
  const params = new URLSearchParams({ error: "mfa_pending_expired" });
  if (next !== DEFAULT_NEXT) params.set("next", next);
  return `/login?${params}`;
}
