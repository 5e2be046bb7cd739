import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  WebAuthnAbortService,
} from "@simplewebauthn/browser";
import { type AuthenticationResponseJSON, getPasskeyLoginOptions, signInWithPasskey } from "gatehouse-auth/react";
import { useCallback, useEffect, useRef, useState } from "react";
import { messages } from "../lib/messages";
import { passkeyProblem } from "../lib/passkeys";

/** Why the last passkey sign-in failed; `attempt` changes every time so that the alert is announced again. */
export interface PasskeyProblem {
  message: string;
  attempt: number;
}

export interface PasskeySignIn {
  /** Whether this browser can use passkeys at all: false on the server and before the page runs. */
  supported: boolean;
  pending: boolean;
  problem: PasskeyProblem | null;
  /** Starts the ceremony from a button: the browser asks which passkey to use. */
  signIn(): void;
  /** Forgets the problem, e.g. when the password form is sent instead. */
  dismiss(): void;
}

/**
 * Signing in with a passkey on the log-in page, ending in a full navigation to `next`. As soon as the page
 * runs, the passkeys are offered in the email field's autofill (it needs `autocomplete="username webauthn"`);
 * {@link PasskeySignIn.signIn} asks through the browser's dialog instead, for browsers without that or
 * people who do not look there.
 */
export function usePasskeySignIn(next: string): PasskeySignIn {
  const [supported, setSupported] = useState(false);
  const [pending, setPending] = useState(false);
  const [problem, setProblem] = useState<PasskeyProblem | null>(null);
  // Every ceremony's options set the challenge cookie: a button's must not be overwritten by autofill's.
  const autofillOptions = useRef<Promise<unknown>>(Promise.resolve());

  const report = useCallback((message: string) => {
    setProblem((previous) => ({ message, attempt: (previous?.attempt ?? 0) + 1 }));
  }, []);

  /** Sends the browser's answer; true when signed in (the next page is on its way). */
  const finish = useCallback(
    async (response: AuthenticationResponseJSON): Promise<boolean> => {
      const result = await signInWithPasskey({ response });
      if (result.ok) {
        window.location.assign(next);
        return true;
      }
      report(messages.error(result.error.code));
      return false;
    },
    [next, report],
  );

  const offerInAutofill = useCallback(() => {
    const options = getPasskeyLoginOptions();
    autofillOptions.current = options;
    void (async () => {
      const answer = await options;
      if (!answer.ok) return; // nobody asked for a passkey yet: the button says what is wrong if it is used
      try {
        const response = await startAuthentication({ optionsJSON: answer.options, useBrowserAutofill: true });
        setPending(true);
        if (!(await finish(response))) setPending(false);
      } catch {
        // Cancelled by the button's ceremony, or this browser has no autofill for it: nothing to tell.
      }
    })();
  }, [finish]);

  useEffect(() => {
    let active = true;
    setSupported(browserSupportsWebAuthn());
    void browserSupportsWebAuthnAutofill().then((autofill) => {
      if (autofill && active) offerInAutofill();
    });
    return () => {
      active = false;
      WebAuthnAbortService.cancelCeremony();
    };
  }, [offerInAutofill]);

  async function signIn(): Promise<void> {
    if (pending) return;
    setPending(true);
    setProblem(null);
    await autofillOptions.current;
    const answer = await getPasskeyLoginOptions();
    if (!answer.ok) {
      setPending(false);
      return report(messages.error(answer.error.code));
    }
    try {
      // Cancels the autofill's ceremony: the browser runs one at a time.
      const response = await startAuthentication({ optionsJSON: answer.options });
      if (await finish(response)) return;
    } catch (error) {
      const message = passkeyProblem(error);
      if (message) report(message);
    }
    setPending(false);
    // The button's ceremony replaced the autofill's: offer the passkeys there again.
    if (await browserSupportsWebAuthnAutofill()) offerInAutofill();
  }

  return { supported, pending, problem, signIn: () => void signIn(), dismiss: () => setProblem(null) };
}
