import type { Gatehouse } from "../core/gatehouse.js";

/**
 * A Gatehouse instance, or a function returning one. The function form defers creation (opening the
 * database, reading the secret) to the first request, so that `next build` can load routes without them.
 */
export type GatehouseSource = Gatehouse | (() => Gatehouse);

export function resolveGatehouse(source: GatehouseSource): Gatehouse {
  return typeof source === "function" ? source() : source;
}
