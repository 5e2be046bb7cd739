/** Where a successful log-in or sign-up goes when no (safe) `next` was asked for. */
export const DEFAULT_NEXT = "/dashboard";

/** `path` with `?next=` carried over, so switching between log-in and sign-up keeps the destination. */
export function pathWithNext(path: string, next: string): string {
  return next === DEFAULT_NEXT ? path : `${path}?${new URLSearchParams({ next })}`;
}
