import type { AuthResult } from "gatehouse/react";
import { type FormEvent, useState } from "react";

/** The server's answer to the last submit; `attempt` changes every time so an alert is announced again. */
export interface FormOutcome {
  ok: boolean;
  code: string | null;
  message: string;
  fields: Readonly<Record<string, string>>;
  attempt: number;
}

/**
 * Runs a JavaScript form: disables it while pending, keeps the server's answer for display, and clears the
 * form after a success. `successMessage` may depend on the result (e.g. the pending address).
 */
export function useFormSubmit(
  send: (form: FormData) => Promise<AuthResult>,
  successMessage: string | ((result: Extract<AuthResult, { ok: true }>) => string),
  onSuccess: (result: Extract<AuthResult, { ok: true }>) => void = () => undefined,
) {
  const [pending, setPending] = useState(false);
  const [outcome, setOutcome] = useState<FormOutcome | null>(null);
  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (pending) return;
    const form = event.currentTarget;
    setPending(true);
    const result = await send(new FormData(form));
    setPending(false);
    const attempt = (outcome?.attempt ?? 0) + 1;
    if (result.ok) {
      form.reset();
      const message = typeof successMessage === "string" ? successMessage : successMessage(result);
      setOutcome({ ok: true, code: null, message, fields: {}, attempt });
      onSuccess(result);
    } else {
      const fields = result.error.fields ?? {};
      // The per-field messages say what is wrong; the summary only needs to point at them.
      const message = Object.keys(fields).length > 0 ? "Check the highlighted fields." : result.error.message;
      setOutcome({ ok: false, code: result.error.code, message, fields, attempt });
    }
  }
  return { pending, outcome, onSubmit: (event: FormEvent<HTMLFormElement>) => void submit(event) };
}
