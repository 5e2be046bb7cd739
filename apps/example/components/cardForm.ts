import type { FormHTMLAttributes } from "react";
import type { FormOutcome } from "../hooks/useForm";

/**
 * How a shared card's form is sent, spread onto its `<form>`: the Pages Router app posts to the auth API
 * (`method` and `action`, for a browser without JavaScript) and sends JSON from `onSubmit` (`useForm`); the
 * App Router app gives the Server Action from `useActionState` as `action`.
 */
export type CardForm = Pick<FormHTMLAttributes<HTMLFormElement>, "method" | "action" | "onSubmit">;

/**
 * What a card shown by both example apps takes from the app that sends its form: everything else it
 * renders the same in each.
 *
 * @typeParam Refilled the names of the inputs that a refused form fills in again.
 */
export interface FormCardProps<Refilled extends string = never> {
  /** How the form is sent; see {@link CardForm}. */
  form: CardForm;
  /** While the answer is awaited: the submit button is disabled and says so. */
  pending: boolean;
  /** The answer to the last submit (or the error the page was opened with); `null` before there is one. */
  outcome: FormOutcome | null;
  /**
   * The values a refused form sent, as the inputs' `defaultValue`: a Server Action's answer to a post without
   * JavaScript is a new page, whose inputs would be empty. The Pages app's script leaves what was typed in place.
   */
  values?: Partial<Record<Refilled, string>>;
}
