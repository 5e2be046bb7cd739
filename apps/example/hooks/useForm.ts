import type { AuthFailure, AuthResult, FieldProblemLike } from "gatehouse-auth/react";
import { type FormEvent, useState } from "react";
import { messages } from "../lib/messages";

/** A successful answer from the API, for the calls that answer with a user or nothing. */
export type FormSuccessResult = Extract<AuthResult, { ok: true }>;

/** What a successful submit does. */
export type FormSuccess<Result extends { ok: true } = FormSuccessResult> =
  /**
   * A full navigation to `navigate` (already checked to be a path on this site), so the next page is rendered
   * by the server with the new session cookie; the form stays pending until then. A sign-up whose address
   * must be verified first has no session yet, and goes to the log-in page's "check your inbox" instead.
   * The outcome is then only ever a failure. A function takes the address from the server's answer (the
   * provider's page that connecting an account goes on to).
   */
  | { navigate: string | ((result: Result) => string) }
  /**
   * Stay on the page: clear the form, show `message` (which may depend on the result, e.g. the pending
   * address), then call `onSuccess`.
   */
  | { message: string | ((result: Result) => string); onSuccess?: (result: Result) => void }
  /** Clear the form and hand the result on, e.g. to show the next step of a flow; no message is shown. */
  | { onSuccess: (result: Result) => void };

/** Options of {@link useForm}. */
export interface FormOptions {
  /** The `error` code the server put in the URL after a plain (no-JS) form post, if any. */
  initialError?: string | null;
  /** Inputs emptied after a failed submit, e.g. the password of a failed log-in; the others keep their values. */
  clearOnFailure?: readonly string[];
  /**
   * For a failure that is a step elsewhere rather than an error (a log-in that needs its second step, one
   * that waited too long): the path to navigate to, or `null` to show the error as usual. The form stays
   * pending until the next page arrives.
   */
  navigateOnFailure?: (failure: AuthFailure) => string | null;
}

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

/**
 * The outcome of a refused submit, in the app's words (see `lib/messages.ts`): each field's message, and a
 * summary that points at them or says what went wrong. Also for forms run by a Server Action.
 */
export function failure(
  code: string,
  problems: Readonly<Record<string, FieldProblemLike>>,
  attempt: number,
): FormOutcome {
  const fields = Object.fromEntries(
    Object.entries(problems).map(([name, problem]) => [name, messages.field(problem) ?? ""]),
  );
  const message = Object.keys(fields).length > 0 ? CHECK_FIELDS : messages.error(code);
  return { ok: false, code, message, fields, attempt };
}

function clearInputs(form: HTMLFormElement, names: readonly string[]): void {
  for (const name of names) {
    const input = form.elements.namedItem(name);
    if (input instanceof HTMLInputElement) input.value = "";
  }
}

/**
 * Runs a form with JavaScript: sends its values as JSON instead of the plain form post (when the form has
 * one), disables it while pending, keeps the typed values on failure (but those in `clearOnFailure`) and
 * shows per-field errors. The failure's alert takes focus (see `FormAlert`).
 *
 * @param send sends the form's values and resolves to the API's result.
 * @param success what a successful submit does: navigate, or clear the form and show a message or the next step.
 */
export function useForm<Result extends { ok: true } = FormSuccessResult>(
  send: (form: FormData) => Promise<Result | AuthFailure>,
  success: FormSuccess<Result>,
  options: FormOptions = {},
): FormState {
  const { initialError = null, clearOnFailure = [], navigateOnFailure } = options;
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
      const elsewhere = navigateOnFailure?.(result) ?? null;
      if (elsewhere !== null) return window.location.assign(elsewhere);
      setPending(false);
      clearInputs(form, clearOnFailure);
      const { code, fields = {} } = result.error;
      setOutcome((previous) => failure(code, fields, (previous?.attempt ?? 0) + 1));
      return;
    }
    if ("navigate" in success) {
      // The button stays disabled until the next page arrives.
      const verificationRequired = "verificationRequired" in result && result.verificationRequired === true;
      const target = typeof success.navigate === "string" ? success.navigate : success.navigate(result);
      window.location.assign(
        verificationRequired ? `/login?${new URLSearchParams({ notice: "verify_email" })}` : target,
      );
      return;
    }
    setPending(false);
    form.reset();
    if ("message" in success) {
      const message = typeof success.message === "string" ? success.message : success.message(result);
      setOutcome((previous) => ({ ok: true, code: null, message, fields: {}, attempt: (previous?.attempt ?? 0) + 1 }));
    } else {
      setOutcome(null);
    }
    success.onSuccess?.(result);
  }

  return { pending, outcome, onSubmit: (event) => void submit(event) };
}
