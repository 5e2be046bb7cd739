import { type AuthResult, errorMessage } from "gatehouse-auth/react";
import { type FormEvent, useState } from "react";

/** A successful answer from the API. */
export type FormSuccessResult = Extract<AuthResult, { ok: true }>;

/** What a successful submit does. */
export type FormSuccess =
  /**
   * A full navigation to `navigate` (already checked to be a path on this site), so the next page is rendered
   * by the server with the new session cookie; the form stays pending until then. A sign-up whose address
   * must be verified first has no session yet, and goes to the log-in page's "check your inbox" instead.
   * The outcome is then only ever a failure.
   */
  | { navigate: string }
  /**
   * Stay on the page: clear the form, show `message` (which may depend on the result, e.g. the pending
   * address), then call `onSuccess`.
   */
  | { message: string | ((result: FormSuccessResult) => string); onSuccess?: (result: FormSuccessResult) => void };

/** The answer to the last submit; `attempt` changes every time so that an alert is announced again. */
export interface FormOutcome {
  ok: boolean;
  /** The error code, on failure. */
  code: string | null;
  /** What to tell the person: the success message, or what went wrong. */
  message: string;
  /** Per-field messages, to show next to each input. */
  fields: Readonly<Record<string, string>>;
  attempt: number;
}

export interface FormState {
  pending: boolean;
  outcome: FormOutcome | null;
  onSubmit(event: FormEvent<HTMLFormElement>): void;
}

/** The summary when the per-field messages already say what is wrong: it only needs to point at them. */
const CHECK_FIELDS = "Check the highlighted fields.";

function failure(code: string, fields: Readonly<Record<string, string>>, attempt: number): FormOutcome {
  const message = Object.keys(fields).length > 0 ? CHECK_FIELDS : errorMessage(code);
  return { ok: false, code, message, fields, attempt };
}

/**
 * Runs a form with JavaScript: sends its values as JSON instead of the plain form post (when the form has
 * one), disables it while pending, keeps the typed values on failure and shows per-field errors.
 *
 * @param send sends the form's values and resolves to the API's result.
 * @param success what a successful submit does: navigate, or show a message and clear the form.
 * @param initialError the `error` code the server put in the URL after a plain (no-JS) form post, if any.
 */
export function useForm(
  send: (form: FormData) => Promise<AuthResult>,
  success: FormSuccess,
  initialError: string | null = null,
): FormState {
  const [pending, setPending] = useState(false);
  const [outcome, setOutcome] = useState<FormOutcome | null>(() =>
    initialError ? failure(initialError, {}, 0) : null,
  );

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (pending) return;
    const form = event.currentTarget;
    setPending(true);
    const result = await send(new FormData(form));
    if (!result.ok) {
      setPending(false);
      const { code, fields = {} } = result.error;
      setOutcome((previous) => failure(code, fields, (previous?.attempt ?? 0) + 1));
      return;
    }
    if ("navigate" in success) {
      // The button stays disabled until the next page arrives.
      window.location.assign(
        result.verificationRequired ? `/login?${new URLSearchParams({ notice: "verify_email" })}` : success.navigate,
      );
      return;
    }
    setPending(false);
    form.reset();
    const message = typeof success.message === "string" ? success.message : success.message(result);
    setOutcome((previous) => ({ ok: true, code: null, message, fields: {}, attempt: (previous?.attempt ?? 0) + 1 }));
    success.onSuccess?.(result);
  }

  return { pending, outcome, onSubmit: (event) => void submit(event) };
}
