"use client";

import { useEffect } from "react";

/**
 * Takes a one-visit message's query (`?welcome=1`, `?linked=…`) out of the address bar once the page has
 * shown it, so a reload or a bookmark of `path` does not say it again. Next's router follows `replaceState`.
 */
export function ForgetQuery({ path }: { path: string }): null {
  useEffect(() => {
    window.history.replaceState(null, "", path);
  }, [path]);
  return null;
}
