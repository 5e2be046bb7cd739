import { describe, expect, it } from "vitest";
import { isUnavailable } from "./index.js";

describe("isUnavailable", () => {
  it("is true only for the guard's own outage props", () => {
    expect(isUnavailable({ session: { user: null }, forbidden: true, unavailable: true })).toBe(true);
    // A signed-in page whose own data has a prop called `unavailable` is not an outage.
    const signedIn = { session: { user: { id: "u" }, session: {} }, unavailable: true };
    expect(isUnavailable(signedIn)).toBe(false);
    for (const value of [
      null,
      undefined,
      "true",
      { unavailable: "true" },
      JSON.parse('{"__proto__": {"unavailable": true}}'),
    ]) {
      expect(isUnavailable(value)).toBe(false);
    }
  });
});
