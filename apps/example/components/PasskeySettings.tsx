"use client";

import { browserSupportsWebAuthn, startRegistration } from "@simplewebauthn/browser";
import {
  deletePasskey,
  getPasskeyRegistrationOptions,
  type PasskeySummary,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  registerPasskey,
  renamePasskey,
} from "gatehouse-auth/react";
import { type ReactNode, useEffect, useRef, useState } from "react";
import { useCardState } from "../hooks/useCardState";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useForm } from "../hooks/useForm";
import type { PasskeyProblem } from "../hooks/usePasskeySignIn";
import { formatUtc } from "../lib/dates";
import { formValue } from "../lib/forms";
import { messages } from "../lib/messages";
import { passkeyProblem } from "../lib/passkeys";
import { Field } from "./Field";
import { FormActions } from "./FormActions";
import { FormAlert } from "./FormAlert";
import { ItemListAction, ItemListRow } from "./ItemListRow";
import { PasswordConfirm } from "./PasswordConfirm";

/** What is open in the card: nothing, the form to add a passkey, or one passkey's rename or removal. */
type Open = null | { action: "add" } | { action: "rename" | "remove"; id: string };

/** The same limit as the server's (1–100 characters after trimming). */
const MAX_NAME = 100;

/** Adding a passkey: the password (and an optional name), then the browser's dialog creates it. */
function AddPasskey({
  onAdded,
  onCancel,
}: {
  onAdded: (passkey: PasskeySummary) => void;
  onCancel: () => void;
}): ReactNode {
  const [creating, setCreating] = useState(false);
  const [problem, setProblem] = useState<PasskeyProblem | null>(null);
  const password = useFocusOnMount<HTMLInputElement>();

  async function create(options: PublicKeyCredentialCreationOptionsJSON, name: string): Promise<void> {
    setCreating(true);
    const fail = (message: string) => {
      setCreating(false);
      setProblem((previous) => ({ message, attempt: (previous?.attempt ?? 0) + 1 }));
    };
    let response: RegistrationResponseJSON;
    try {
      response = await startRegistration({ optionsJSON: options });
    } catch (error) {
      return fail(passkeyProblem(error) ?? messages.error("invalid_passkey"));
    }
    // An empty field means "no name": the server then calls it "Passkey".
    const result = await registerPasskey({ response, ...(name.trim() && { name }) });
    if (!result.ok) return fail(messages.error(result.error.code));
    onAdded(result.passkey);
  }

  const confirm = useForm(
    async (form) => {
      const answer = await getPasskeyRegistrationOptions({ password: formValue(form, "passkeyPassword") });
      return answer.ok ? { ...answer, name: formValue(form, "passkeyName") } : answer;
    },
    {
      onSuccess: (answer) => {
        setProblem(null);
        void create(answer.options, answer.name);
      },
    },
  );
  const failure = confirm.outcome && !confirm.outcome.ok ? confirm.outcome : null;
  const alert = problem ?? failure;
  return (
    <div className="confirm">
      {alert && (
        <FormAlert key={`${problem ? "browser" : "server"}-${alert.attempt}`} title="No passkey was added">
          {alert.message}
        </FormAlert>
      )}
      <form className="form" onSubmit={confirm.onSubmit}>
        <Field
          name="passkeyPassword"
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          maxLength={256}
          error={failure?.fields.password}
          inputRef={password}
        />
        <Field
          name="passkeyName"
          label={
            <>
              Name <span className="field__optional">(optional)</span>
            </>
          }
          type="text"
          autoComplete="off"
          maxLength={MAX_NAME}
          hint="To tell your passkeys apart, e.g. “Work laptop”."
          error={failure?.fields.name}
        />
        <FormActions
          pending={confirm.pending || creating}
          submitLabel="Create passkey"
          pendingLabel="Creating passkey…"
          onCancel={onCancel}
        />
      </form>
    </div>
  );
}

/** Renaming one passkey, in place. */
function RenamePasskey({
  passkey,
  onRenamed,
  onCancel,
}: {
  passkey: PasskeySummary;
  onRenamed: (passkey: PasskeySummary) => void;
  onCancel: () => void;
}): ReactNode {
  const rename = useForm((form) => renamePasskey(passkey.id, { name: formValue(form, "passkeyNewName") }), {
    onSuccess: (result) => onRenamed(result.passkey),
  });
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.select();
  }, []);
  const failure = rename.outcome && !rename.outcome.ok ? rename.outcome : null;
  return (
    <div className="confirm">
      {failure && (
        <FormAlert key={failure.attempt} title="The passkey was not renamed">
          {failure.message}
        </FormAlert>
      )}
      <form className="form" onSubmit={rename.onSubmit}>
        <Field
          name="passkeyNewName"
          label="New name"
          type="text"
          autoComplete="off"
          required
          maxLength={MAX_NAME}
          defaultValue={passkey.name}
          error={failure?.fields.name}
          inputRef={input}
        />
        <FormActions pending={rename.pending} submitLabel="Save name" pendingLabel="Saving…" onCancel={onCancel} />
      </form>
    </div>
  );
}

/**
 * The user's passkeys, newest first (the server's list, from `getServerSideProps`): add one (with the
 * password and the browser's dialog), rename one, or remove one (with the password). Needs JavaScript, as
 * passkeys do.
 */
export function PasskeySettings({ passkeys: initial }: { passkeys: PasskeySummary[] }): ReactNode {
  const [passkeys, setPasskeys] = useState(initial);
  const [supported, setSupported] = useState(false);
  const { open, notice, heading, openFor, close } = useCardState<Open>();

  useEffect(() => setSupported(browserSupportsWebAuthn()), []);

  return (
    <section className="card card--wide" aria-labelledby="passkeys-heading">
      <h2 id="passkeys-heading" ref={heading} tabIndex={-1}>
        Passkeys
      </h2>
      <p>
        Log in with your fingerprint, face or screen lock instead of your password. A passkey lives on your device or in
        your password manager, and only works on this site.
      </p>
      <p role="status" className="status--success">
        {notice}
      </p>
      {passkeys.length === 0 && <p className="muted">You have no passkeys yet.</p>}
      {passkeys.length > 0 && (
        <ul className="item-list">
          {passkeys.map((passkey) => {
            const editing = open !== null && open.action !== "add" && open.id === passkey.id ? open.action : null;
            return (
              <ItemListRow
                key={passkey.id}
                name={passkey.name}
                meta={
                  <>
                    Added {formatUtc(passkey.createdAt)} ·{" "}
                    {passkey.lastUsedAt ? `last used ${formatUtc(passkey.lastUsedAt)}` : "never used"}
                  </>
                }
                actions={
                  editing === null && (
                    <>
                      <ItemListAction
                        label="Rename"
                        item={passkey.name}
                        tone="secondary"
                        onClick={() => openFor({ action: "rename", id: passkey.id })}
                      />
                      <ItemListAction
                        label="Remove"
                        item={passkey.name}
                        tone="secondary"
                        onClick={() => openFor({ action: "remove", id: passkey.id })}
                      />
                    </>
                  )
                }
              >
                {editing === "rename" && (
                  <RenamePasskey
                    passkey={passkey}
                    onRenamed={(renamed) => {
                      setPasskeys((list) => list.map((p) => (p.id === renamed.id ? renamed : p)));
                      close(`The passkey is now called “${renamed.name}”.`);
                    }}
                    onCancel={() => close("")}
                  />
                )}
                {editing === "remove" && (
                  <PasswordConfirm
                    name="passkeyRemovePassword"
                    submitLabel="Remove passkey"
                    pendingLabel="Removing…"
                    failureTitle="The passkey was not removed"
                    tone="danger"
                    send={(password) => deletePasskey(passkey.id, { password })}
                    onSuccess={() => {
                      setPasskeys((list) => list.filter((p) => p.id !== passkey.id));
                      close(`“${passkey.name}” was removed. It can no longer log in.`);
                    }}
                    onCancel={() => close("")}
                  >
                    <p>Remove “{passkey.name}”? You will no longer be able to log in with it.</p>
                  </PasswordConfirm>
                )}
              </ItemListRow>
            );
          })}
        </ul>
      )}
      {open?.action === "add" ? (
        <AddPasskey
          onAdded={(passkey) => {
            setPasskeys((list) => [passkey, ...list]);
            close(`“${passkey.name}” was added. You can log in with it now.`);
          }}
          onCancel={() => close("")}
        />
      ) : (
        // Only once the page runs: without JavaScript (or WebAuthn) no passkey can be created.
        supported && (
          <button type="button" className="button" onClick={() => openFor({ action: "add" })}>
            Add a passkey
          </button>
        )
      )}
    </section>
  );
}
