import { isGatehouseError } from "../errors.js";

/**
 * Runs work after the response is on its way: its duration then tells nothing (does the account exist?), and
 * a slow mail server does not hold the request. Failures are logged, never shown to the requester.
 */
export function runLater(what: string, task: () => Promise<void>): void {
  setImmediate(() => {
    task().catch((error: unknown) => {
      // Over its limit, a background email is simply not sent: that is the limit working, not a failure.
      if (isGatehouseError(error) && error.code === "rate_limited") return;
      console.error(`gatehouse: ${what} failed:`, error instanceof Error ? error.message : error);
    });
  });
}
