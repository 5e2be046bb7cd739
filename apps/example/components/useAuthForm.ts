import type { AuthResult } from "gatehouse/react";
import { type FormEvent, useState } from "react";
import { messageForCode } from "./authErrors";

/** What went wrong on the last attempt; `attempt` changes every time so the alert is announced again. */
export interface AuthFailure {
  code: string;
  message: string;
  fields: Readonly<Record<string, string>>;
  attempt: number;
}

export interface AuthFormState {
  pending: boolean;
  failure: AuthFailure | null;
  onSubmit(event: FormEvent<HTMLFormElement>): void;
}

/**
 * Progressive enhancement for the log-in and sign-up forms: the form posts to the API on its own, and
 * with JavaScript this sends JSON instead, keeps the typed values on failure and shows per-field errors.
 *
 * @param submit sends the form's values and resolves to the API's result.
 * @param next where to go on success (already checked to be a path on this site).
 * @param initialError the `error` code the server put in the URL after a plain form post, if any.
 */
export function useAuthForm(
  submit: (form: FormData) => Promise<AuthResult>,
  next: string,
  initialError: string | null,
): AuthFormState {
  const [pending, setPending] = useState(false);
  const [failure, setFailure] = useState<AuthFailure | null>(() =>
    initialError ? { code: initialError, message: messageForCode(initialError), fields: {}, attempt: 0 } : null,
  );

  async function handleSubmit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (pending) return;
    setPending(true);
    const result = await submit(new FormData(event.currentTarget));
    if (result.ok && result.verificationRequired) {
      // The account exists but cannot be used before its address is verified: there is no session yet.
      window.location.assign(`/login?${new URLSearchParams({ notice: "verify_email" })}`);
      return;
    }
    if (result.ok) {
      // A full navigation, so the next page is rendered by the server with the new session cookie.
      // The button stays disabled until then.
      window.location.assign(next);
      return;
    }
    const { code, fields = {} } = result.error;
    // The per-field messages say what is wrong; the summary only needs to point at them.
    const message = Object.keys(fields).length > 0 ? "Check the highlighted fields." : result.error.message;
    setFailure((previous) => ({ code, message, fields, attempt: (previous?.attempt ?? 0) + 1 }));
    setPending(false);
  }

  return { pending, failure, onSubmit: (event) => void handleSubmit(event) };
}

/** A form field's value as a string (empty when missing). */
export function formValue(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
}
