import { type FormOutcome, failure } from "@shared/hooks/useForm";
import type { ActionState } from "gatehouse-auth/next/app";
import { useState } from "react";

/**
 * A Server Action's state as the shared form pieces show an answer (`FormOutcome`, in the app's words): the
 * failure with a message per field, or `success` for an `ok` state, or `null` before the first submit.
 * `attempt` counts the answers, so that a `FormAlert` keyed on it announces a repeated error again.
 */
export function useActionOutcome(state: ActionState, success = ""): FormOutcome | null {
  // A new state object is a new answer: counted while rendering, React's way to track a changed prop.
  const [seen, setSeen] = useState({ state, attempt: state ? 1 : 0 });
  if (seen.state !== state) setSeen({ state, attempt: seen.attempt + 1 });
  const attempt = seen.state === state ? seen.attempt : seen.attempt + 1;
  if (!state) return null;
  if (state.ok) return { ok: true, code: null, message: success, fields: {}, attempt };
  return failure(state.error.code, state.error.fields ?? {}, attempt);
}

/** What the form sent for `name`, when the action refused it: a form posted without JavaScript is filled in again. */
export function submitted(state: ActionState, name: string): string | undefined {
  return state?.ok === false ? state.values[name] : undefined;
}
