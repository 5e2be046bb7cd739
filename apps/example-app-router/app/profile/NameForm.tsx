"use client";

import { FormAlert } from "@shared/components/FormAlert";
import { NameField } from "@shared/components/NameField";
import { type ReactNode, useActionState } from "react";
import { rename } from "@/app/actions";
import { submitted, useActionOutcome } from "@/hooks/useActionOutcome";

/** The display name, changed by the guarded `rename` Server Action, with or without JavaScript. */
export function NameForm({ name }: { name: string | null }): ReactNode {
  const [state, action, pending] = useActionState(rename, null);
  const outcome = useActionOutcome(state, "Your name has been saved.");
  return (
    <>
      <h3>Change your name</h3>
      {outcome && !outcome.ok && (
        <FormAlert key={outcome.attempt} title="Your name was not changed">
          {outcome.message}
        </FormAlert>
      )}
      <p role="status" className="status--success">
        {outcome?.ok ? outcome.message : ""}
      </p>
      <form action={action} className="form">
        <NameField
          // The refused name, to correct; else the saved one (the page shows the new one once it is saved).
          defaultValue={submitted(state, "name") ?? name ?? ""}
          error={outcome?.fields.name}
        />
        <button type="submit" className="button" disabled={pending}>
          {pending ? "Saving…" : "Save name"}
        </button>
      </form>
    </>
  );
}
