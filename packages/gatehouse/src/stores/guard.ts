import { isGatehouseError, StoreUnavailableError } from "../errors.js";

/**
 * Runs a store operation so that it fails closed: a driver error or a call that outlives `timeoutMs`
 * becomes `StoreUnavailableError` (HTTP 503). Gatehouse's own errors pass through unchanged.
 */
export async function failClosed<T>(operation: () => Promise<T>, timeoutMs: number | undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    if (timeoutMs === undefined) return await operation();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError({ cause: new Error(`store call exceeded ${timeoutMs} ms`) })),
        timeoutMs,
      );
    });
    return await Promise.race([operation(), timeout]);
  } catch (error) {
    if (isGatehouseError(error)) throw error;
    throw new StoreUnavailableError({ cause: error });
  } finally {
    if (timer) clearTimeout(timer);
  }
}
