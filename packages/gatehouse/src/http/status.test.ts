import { describe, expect, it } from "vitest";
import {
  AlreadyVerifiedError,
  ConfigurationError,
  CsrfError,
  EmailTakenError,
  EmailUnverifiedError,
  ForbiddenError,
  type GatehouseError,
  InvalidCredentialsError,
  InvalidInputError,
  InvalidJsonError,
  InvalidTokenError,
  MailUnavailableError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  ReauthenticationRequiredError,
  StoreUnavailableError,
  TokenExpiredError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
} from "../errors.js";
import { errorResponse } from "./response.js";
import { HTTP_STATUS } from "./status.js";

describe("HTTP_STATUS", () => {
  // The contract of issues 2–6, error by error: what each becomes at the HTTP edge.
  const contract: Array<[GatehouseError, number]> = [
    [new InvalidInputError({ email: { code: "invalid_email", message: "x" } }), 400],
    [new InvalidJsonError(), 400],
    [new InvalidTokenError(), 400],
    [new TokenExpiredError(), 400],
    [new InvalidCredentialsError(), 401],
    [new UnauthenticatedError(), 401],
    [new ForbiddenError(), 403],
    [new CsrfError(), 403],
    [new ReauthenticationRequiredError(), 403],
    [new EmailUnverifiedError(), 403],
    [new NotFoundError(), 404],
    [new EmailTakenError(), 409],
    [new AlreadyVerifiedError(), 409],
    [new PayloadTooLargeError(10), 413],
    [new UnsupportedMediaTypeError(["application/json"]), 415],
    [new RateLimitedError(5), 429],
    [new StoreUnavailableError(), 503],
    [new MailUnavailableError(), 503],
  ];

  it.each(contract)("answers %s with its status", (error, status) => {
    expect(HTTP_STATUS[error.code]).toBe(status);
    expect(errorResponse(error).status).toBe(status);
  });

  it("gives a configuration error no status of its own: it is the generic 500", () => {
    expect(errorResponse(new ConfigurationError("no secret")).status).toBe(500);
  });

  it("carries no status on the errors themselves", () => {
    for (const [error] of contract) expect(Object.hasOwn(error, "status")).toBe(false);
  });
});
