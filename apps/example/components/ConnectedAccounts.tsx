"use client";

import {
  type AuthFailure,
  type IdentitySummary,
  linkProvider,
  type OAuthProviderSummary,
  oauthSignInUrl,
  unlinkIdentity,
} from "gatehouse-auth/react";
import Link from "next/link";
import { type ReactNode, useState } from "react";
import { useCardState } from "../hooks/useCardState";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { type FormOutcome, useForm } from "../hooks/useForm";
import { formatUtc } from "../lib/dates";
import { messages } from "../lib/messages";
import { FormActions } from "./FormActions";
import { FormAlert } from "./FormAlert";
import { ItemListAction, ItemListRow } from "./ItemListRow";
import { PasswordConfirm } from "./PasswordConfirm";
import { SuccessNotice } from "./SuccessNotice";

/** Where the provider's page sends the browser back after connecting; the callback adds `?linked=` or `?error=`. */
const SETTINGS_PATH = "/settings";

/** One row of the card: an enabled provider (connected or not), or a connected one no longer enabled. */
interface Row {
  id: string;
  name: string;
  identity: IdentitySummary | null;
}

/** What is open in the card: nothing, or one provider's connecting or disconnecting. */
type Open = null | { action: "connect" | "disconnect"; id: string };

/** The enabled providers in their configured order, then accounts of providers that have been turned off since. */
function rowsOf(providers: readonly OAuthProviderSummary[], identities: readonly IdentitySummary[]): Row[] {
  const rows = providers.map(({ id, name }) => ({
    id,
    name,
    identity: identities.find((identity) => identity.provider === id) ?? null,
  }));
  const gone = identities.filter((identity) => !providers.some(({ id }) => id === identity.provider));
  return [...rows, ...gone.map((identity) => ({ id: identity.provider, name: identity.provider, identity }))];
}

/**
 * The failure of a change by an account without a password, which confirms with a recent log-in: when it is
 * too old, it says so and offers to log in again with a connected account (which comes back here).
 */
function NoPasswordFailure({
  failure,
  title,
  rows,
}: {
  failure: FormOutcome;
  title: string;
  rows: readonly Row[];
}): ReactNode {
  if (failure.code === "last_sign_in_method") {
    return (
      <FormAlert key={failure.attempt} title={title}>
        {failure.message} <Link href="/forgot-password">Set a password</Link>
      </FormAlert>
    );
  }
  if (failure.code !== "reauthentication_required") {
    return (
      <FormAlert key={failure.attempt} title={title}>
        {failure.message}
      </FormAlert>
    );
  }
  const connected = rows.filter((row) => row.identity !== null);
  return (
    <FormAlert key={failure.attempt} title={title}>
      For your security, this needs a recent log-in.{" "}
      {connected.map((row, index) => (
        <span key={row.id}>
          {index > 0 && " or "}
          <a href={oauthSignInUrl(row.id, { next: SETTINGS_PATH })}>Log in again with {row.name}</a>
        </span>
      ))}
      {connected.length > 0 && ", then try once more."}
    </FormAlert>
  );
}

/**
 * Disconnecting, for an account without a password: nothing to type (its recent log-in confirms it), but
 * still a step of its own, as the account can no longer log in with the provider afterwards.
 */
function ConfirmWithoutPassword({
  row,
  rows,
  onDone,
  onCancel,
}: {
  row: Row;
  rows: readonly Row[];
  onDone: () => void;
  onCancel: () => void;
}): ReactNode {
  const confirm = useForm(() => unlinkIdentity(row.id), { onSuccess: onDone });
  const button = useFocusOnMount<HTMLButtonElement>();
  const failure = confirm.outcome && !confirm.outcome.ok ? confirm.outcome : null;
  return (
    <div className="confirm">
      {failure && <NoPasswordFailure failure={failure} title={`${row.name} is still connected`} rows={rows} />}
      <p>Disconnect {row.name}? You will no longer be able to log in with it.</p>
      <form className="form" onSubmit={confirm.onSubmit}>
        <FormActions
          pending={confirm.pending}
          submitLabel={`Disconnect ${row.name}`}
          pendingLabel="Disconnecting…"
          tone="danger"
          submitRef={button}
          onCancel={onCancel}
        />
      </form>
    </div>
  );
}

/**
 * Connecting, for an account without a password: straight on to the provider (its recent log-in confirms
 * it). A plain button, pending until the provider's page arrives.
 */
function ConnectWithoutPassword({
  row,
  onFailure,
}: {
  row: Row;
  onFailure: (failure: AuthFailure) => void;
}): ReactNode {
  const [pending, setPending] = useState(false);
  async function connect(): Promise<void> {
    setPending(true);
    const result = await linkProvider(row.id);
    if (result.ok) return window.location.assign(result.url);
    setPending(false);
    onFailure(result);
  }
  return (
    <button
      type="button"
      className="button button--small"
      aria-label={`Connect ${row.name}`}
      disabled={pending}
      onClick={() => void connect()}
    >
      {pending ? "Connecting…" : "Connect"}
    </button>
  );
}

export interface ConnectedAccountsProps {
  /** The providers the server has enabled, in its order. */
  providers: OAuthProviderSummary[];
  /** The user's connected accounts, oldest first (dates as ISO strings: props travel as JSON). */
  identities: IdentitySummary[];
  /** Whether changes here are confirmed with the password; an account without one confirms by a recent log-in. */
  hasPassword: boolean;
  /** The provider just connected (`?linked=`, set by the callback), if it is in the list. */
  linked: string | null;
  /** Why connecting did not work (`?error=`, set by the callback). */
  error: string | null;
}

/**
 * Log in with an account elsewhere (an OpenID Connect or OAuth provider): each enabled provider, connected
 * (with the address it gave and since when, and Disconnect) or not (Connect, which goes on to the provider
 * and comes back here). Both ask for the password when the account has one. Needs JavaScript.
 */
export function ConnectedAccounts({
  providers,
  identities: initial,
  hasPassword,
  linked,
  error,
}: ConnectedAccountsProps): ReactNode {
  const [identities, setIdentities] = useState(initial);
  const { open, notice, heading, close, openFor: openInCard } = useCardState<Open>();
  // What the provider's callback said, shown until the person does something else here.
  const [landing, setLanding] = useState(() => ({ linked, error }));
  // A connect without a password fails outside any form: its alert is the card's own.
  const [failure, setFailure] = useState<FormOutcome | null>(null);
  const rows = rowsOf(providers, identities);
  const linkedRow = rows.find((row) => row.id === landing.linked && row.identity !== null);

  /** Opening anything here also forgets the card's own alert and what the provider's callback said. */
  function openFor(next: Open): void {
    setFailure(null);
    setLanding({ linked: null, error: null });
    openInCard(next);
  }

  function connectFailed(result: AuthFailure): void {
    setLanding({ linked: null, error: null });
    setFailure((previous) => ({
      ok: false,
      code: result.error.code,
      message: messages.error(result.error.code),
      fields: {},
      attempt: (previous?.attempt ?? 0) + 1,
    }));
  }

  return (
    <section className="card card--wide" aria-labelledby="connected-heading">
      <h2 id="connected-heading" ref={heading} tabIndex={-1}>
        Connected accounts
      </h2>
      <p>Log in with an account you already have elsewhere, without typing a password here.</p>
      {linkedRow && (
        <SuccessNotice title={`${linkedRow.name} is connected`}>
          <p>You can now log in with it.</p>
        </SuccessNotice>
      )}
      {landing.error && <FormAlert title="No account was connected">{messages.error(landing.error)}</FormAlert>}
      {failure && <NoPasswordFailure failure={failure} title="No account was connected" rows={rows} />}
      <p role="status" className="status--success">
        {notice}
      </p>
      {rows.length === 0 && <p className="muted">No providers are set up for this site.</p>}
      {rows.length > 0 && (
        <ul className="item-list">
          {rows.map((row) => {
            const editing = open?.id === row.id ? open.action : null;
            const { identity } = row;
            return (
              <ItemListRow
                key={row.id}
                name={row.name}
                meta={
                  identity
                    ? `${identity.email ?? "No email address given"} · connected ${formatUtc(identity.createdAt)}`
                    : "Not connected"
                }
                actions={
                  editing === null && (
                    <>
                      {identity && (
                        <ItemListAction
                          label="Disconnect"
                          item={row.name}
                          tone="secondary"
                          onClick={() => openFor({ action: "disconnect", id: row.id })}
                        />
                      )}
                      {!identity && hasPassword && (
                        <ItemListAction
                          label="Connect"
                          item={row.name}
                          onClick={() => openFor({ action: "connect", id: row.id })}
                        />
                      )}
                      {!identity && !hasPassword && <ConnectWithoutPassword row={row} onFailure={connectFailed} />}
                    </>
                  )
                }
              >
                {editing === "connect" && (
                  <PasswordConfirm
                    name="connectPassword"
                    submitLabel={`Continue to ${row.name}`}
                    pendingLabel="Checking…"
                    failureTitle={`${row.name} was not connected`}
                    send={(password) => linkProvider(row.id, { password })}
                    navigate={(result) => result.url}
                    onCancel={() => close("")}
                  >
                    <p>Confirm it is you, then log in at {row.name} to connect your account there.</p>
                  </PasswordConfirm>
                )}
                {editing === "disconnect" && hasPassword && (
                  <PasswordConfirm
                    name="disconnectPassword"
                    submitLabel={`Disconnect ${row.name}`}
                    pendingLabel="Disconnecting…"
                    failureTitle={`${row.name} is still connected`}
                    tone="danger"
                    send={(password) => unlinkIdentity(row.id, { password })}
                    onSuccess={() => {
                      setIdentities((list) => list.filter((item) => item.provider !== row.id));
                      close(`${row.name} was disconnected. It can no longer log in.`);
                    }}
                    onCancel={() => close("")}
                  >
                    <p>Disconnect {row.name}? You will no longer be able to log in with it.</p>
                  </PasswordConfirm>
                )}
                {editing === "disconnect" && !hasPassword && (
                  <ConfirmWithoutPassword
                    row={row}
                    rows={rows}
                    onDone={() => {
                      setIdentities((list) => list.filter((item) => item.provider !== row.id));
                      close(`${row.name} was disconnected. It can no longer log in.`);
                    }}
                    onCancel={() => close("")}
                  />
                )}
              </ItemListRow>
            );
          })}
        </ul>
      )}
    </section>
  );
}
