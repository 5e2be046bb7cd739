import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigurationError, EmailTakenError } from "../errors.js";
import { errorResponse } from "./response.js";

describe("errorResponse", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function logged(): string[] {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    return lines;
  }

  it("answers a misconfiguration with the generic 500 of an unexpected error, and logs its message once", () => {
    const log = logged();
    const message = 'DATABASE_URL "file:" has no file path. Use file:<path>.';
    const misconfigured = errorResponse(new ConfigurationError(message));
    const unexpected = errorResponse(new Error("boom"));
    expect(misconfigured).toEqual(unexpected);
    expect(misconfigured.status).toBe(500);
    expect(JSON.parse(misconfigured.body ?? "")).toEqual({
      error: { code: "internal_error", message: "Something went wrong on our side." },
    });
    expect(log.filter((line) => line.includes("configuration error"))).toEqual([
      `gatehouse: configuration error: ${message}`,
    ]);
  });

  it("keeps the code and message of an error meant for the client, and logs nothing", () => {
    const log = logged();
    const response = errorResponse(new EmailTakenError());
    expect(response.status).toBe(409);
    expect(JSON.parse(response.body ?? "")).toEqual({
      error: { code: "email_taken", message: "An account with this email already exists." },
    });
    expect(log).toEqual([]);
  });
});
