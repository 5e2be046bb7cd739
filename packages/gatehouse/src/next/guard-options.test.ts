import { describe, expect, it } from "vitest";
import type { Gatehouse } from "../core/gatehouse.js";
import { withApiAuth } from "./api.js";
import { withPageAuth } from "./pages.js";

/** Never called: every check here happens when the guard is built, before any request. */
const getGatehouse = (): Gatehouse => {
  throw new Error("not called");
};
const handler = () => undefined;
const loader = async () => ({ props: {} });

describe("guard options are checked when the guard is built", () => {
  // Each of these would otherwise build a guard that checks no permission at all.
  it.each([
    ["a string for options", () => withApiAuth(getGatehouse, handler, "users:read" as never)],
    ["a misspelt key", () => withApiAuth(getGatehouse, { permisson: "users:read" } as never, handler)],
    ["a wrong-case key", () => withApiAuth(getGatehouse, handler, { Permission: "users:read" } as never)],
    ["a second handler", () => withApiAuth(getGatehouse, handler, handler as never)],
    ["null options", () => withApiAuth(getGatehouse, null as never, handler)],
    ["an empty permission", () => withApiAuth(getGatehouse, { permission: "" }, handler)],
    ["no handler", () => withApiAuth(getGatehouse, { permission: "users:read" } as never)],
    ["page: a string for options", () => withPageAuth(getGatehouse, "users:read" as never, loader)],
    ["page: null options", () => withPageAuth(getGatehouse, null as never, loader)],
    [
      "page: the loader before the options",
      () => withPageAuth(getGatehouse, loader as never, { role: "admin" } as never),
    ],
    ["page: a loader that is not a function", () => withPageAuth(getGatehouse, {}, "x" as never)],
    ["page: a permission that is not text", () => withPageAuth(getGatehouse, { permission: 1 as never })],
  ])("refuses %s", (_label, build) => {
    expect(build).toThrow(TypeError);
  });

  it("accepts every documented form", () => {
    expect(() => withApiAuth(getGatehouse, handler)).not.toThrow();
    expect(() => withApiAuth(getGatehouse, { permission: "users:read" }, handler)).not.toThrow();
    expect(() => withApiAuth(getGatehouse, handler, { role: "admin" })).not.toThrow();
    expect(() => withPageAuth(getGatehouse)).not.toThrow();
    expect(() => withPageAuth(getGatehouse, loader)).not.toThrow();
    expect(() => withPageAuth(getGatehouse, { permission: "users:read", loginPath: "/signin" }, loader)).not.toThrow();
  });
});
