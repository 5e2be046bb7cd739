import type { Metadata } from "next";

/** A page's `metadata`: its title as every page of both example apps writes it, "Log in · Gatehouse". */
export function titled(title: string): Metadata {
  return { title: `${title} · Gatehouse` };
}
