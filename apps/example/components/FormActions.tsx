import type { ReactNode, Ref } from "react";

/** The buttons of a form opened in place: submit (showing `pendingLabel` while `pending`), and Cancel to close it. */
export function FormActions({
  pending,
  submitLabel,
  pendingLabel,
  tone,
  submitRef,
  onCancel,
}: {
  pending: boolean;
  submitLabel: string;
  pendingLabel: string;
  tone?: "danger";
  /** For a submit button that takes focus itself, when the form has nothing to type. */
  submitRef?: Ref<HTMLButtonElement>;
  onCancel: () => void;
}): ReactNode {
  return (
    <div className="actions actions--form">
      <button
        ref={submitRef}
        type="submit"
        className={tone === "danger" ? "button button--danger" : "button"}
        disabled={pending}
      >
        {pending ? pendingLabel : submitLabel}
      </button>
      <button type="button" className="button button--secondary" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
