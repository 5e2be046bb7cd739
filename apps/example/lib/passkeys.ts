import { WebAuthnError } from "@simplewebauthn/browser";

/**
 * What to tell a person whose browser ceremony did not give a passkey, or `null` when there is nothing to
 * say: the app cancelled it itself (another ceremony started, or the page is going away).
 */
export function passkeyProblem(error: unknown): string | null {
  if (error instanceof WebAuthnError && error.code === "ERROR_CEREMONY_ABORTED") return null;
  if (error instanceof WebAuthnError && error.code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED") {
    return "This device already has a passkey for your account.";
  }
  // The person closed the browser's dialog, or let it time out.
  if (error instanceof Error && error.name === "NotAllowedError") {
    return "No passkey was used. Try again, or choose another way.";
  }
  return "This browser could not use a passkey here. Choose another way.";
}
