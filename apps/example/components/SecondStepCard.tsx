"use client";

import { browserSupportsWebAuthn, startAuthentication } from "@simplewebauthn/browser";
import {
  type AuthFailure,
  type AuthResult,
  getSecondFactorPasskeyOptions,
  type SecondFactorMethod,
  verifySecondFactor,
} from "gatehouse-auth/react";
import Link from "next/link";
import { type ReactNode, useEffect, useRef, useState } from "react";
import { useForm } from "../hooks/useForm";
import type { PasskeyProblem } from "../hooks/usePasskeySignIn";
import { loginAgainPath, pathWithNext, secondStepPath } from "../lib/authPaths";
import { formValue } from "../lib/forms";
import { messages } from "../lib/messages";
import { passkeyProblem } from "../lib/passkeys";
import { Field } from "./Field";
import { FormAlert } from "./FormAlert";

/** Which code the form asks for: one from the authenticator app, or a recovery code. */
export type SecondStepCode = "totp" | "recovery";

export interface SecondStepCardProps {
  /** Where to go once signed in; a path on this site. */
  next: string;
  /** The error code of a failed plain form post. */
  error: string | null;
  /** The ways the server offered for this log-in (all of them after a plain form post, which does not say). */
  methods: SecondFactorMethod[];
  /** Which code the form asks for; see {@link SecondStepCode}. */
  use: SecondStepCode;
}

/** A log-in that waited too long starts again with the password; any other failure is shown here. */
function restartPath(result: AuthFailure, next: string): string | null {
  return result.error.code === "mfa_pending_expired" ? loginAgainPath(next) : null;
}

/** The passkey as the second step: the browser asks for one of the account's own passkeys. */
function usePasskeyStep(next: string): {
  supported: boolean;
  pending: boolean;
  problem: PasskeyProblem | null;
  start(): void;
  dismiss(): void;
} {
  const [supported, setSupported] = useState(false);
  const [pending, setPending] = useState(false);
  const [problem, setProblem] = useState<PasskeyProblem | null>(null);
  useEffect(() => setSupported(browserSupportsWebAuthn()), []);

  function fail(message: string): void {
    setPending(false);
    setProblem((previous) => ({ message, attempt: (previous?.attempt ?? 0) + 1 }));
  }

  function failed(result: AuthFailure): void {
    const path = restartPath(result, next);
    if (path) window.location.assign(path);
    else fail(messages.error(result.error.code));
  }

  async function start(): Promise<void> {
    if (pending) return;
    setPending(true);
    setProblem(null);
    const answer = await getSecondFactorPasskeyOptions();
    if (!answer.ok) return failed(answer);
    let result: AuthResult;
    try {
      result = await verifySecondFactor({ passkey: await startAuthentication({ optionsJSON: answer.options }) });
    } catch (error) {
      return fail(passkeyProblem(error) ?? messages.error("invalid_passkey"));
    }
    if (result.ok) window.location.assign(next);
    else failed(result);
  }

  return { supported, pending, problem, start: () => void start(), dismiss: () => setProblem(null) };
}

/** The code form and the other ways to finish; keyed by the kind of code, so switching starts afresh. */
function SecondStep({ next, error, methods, use }: SecondStepCardProps): ReactNode {
  const recovery = use === "recovery";
  const field = recovery ? "recoveryCode" : "code";
  const { pending, outcome, onSubmit } = useForm(
    (form) =>
      recovery
        ? verifySecondFactor({ recoveryCode: formValue(form, "recoveryCode") })
        : verifySecondFactor({ code: formValue(form, "code") }),
    { navigate: next },
    { initialError: error, clearOnFailure: [field], navigateOnFailure: (result) => restartPath(result, next) },
  );
  const passkey = usePasskeyStep(next);
  const alert = passkey.problem ?? outcome;
  const passkeyOffered = passkey.supported && methods.includes("passkey");

  // The one thing to do here is to type a code: the field has focus, unless an alert took it to be read first.
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (!error) input.current?.focus();
  }, [error]);

  const switchTo = recovery ? (
    <Link href={secondStepPath({ next, methods })}>Use your authenticator app</Link>
  ) : (
    methods.includes("recovery_code") && (
      <Link href={secondStepPath({ next, methods, use: "recovery" })}>Use a recovery code</Link>
    )
  );
  return (
    <>
      <p>
        {recovery
          ? "Enter one of the recovery codes you saved when you turned on two-factor authentication. Each works once."
          : "Enter the 6-digit code from your authenticator app."}
      </p>
      {alert && (
        <FormAlert key={`${passkey.problem ? "passkey" : "code"}-${alert.attempt}`} title="Could not log in">
          {alert.message}
        </FormAlert>
      )}
      <form
        method="post"
        action="/api/auth/mfa/verify"
        className="form"
        onSubmit={(event) => {
          passkey.dismiss();
          onSubmit(event);
        }}
      >
        <input type="hidden" name="next" value={next} />
        {recovery ? (
          <Field
            name="recoveryCode"
            label="Recovery code"
            type="text"
            autoComplete="off"
            required
            maxLength={32}
            error={outcome?.fields.recoveryCode}
            inputRef={input}
          />
        ) : (
          <Field
            name="code"
            label="Authentication code"
            type="text"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            maxLength={12}
            error={outcome?.fields.code}
            inputRef={input}
          />
        )}
        <button type="submit" className="button button--block" disabled={pending || passkey.pending}>
          {pending ? "Verifying…" : "Verify"}
        </button>
      </form>
      {(switchTo || passkeyOffered) && (
        <div className="alternative">
          <p className="alternative__label">or</p>
          <ul className="alternative__list">
            {switchTo && <li>{switchTo}</li>}
            {/* Only once the page runs: without JavaScript a passkey cannot be used. */}
            {passkeyOffered && (
              <li>
                <button
                  type="button"
                  className="button button--secondary button--block"
                  disabled={pending || passkey.pending}
                  onClick={passkey.start}
                >
                  {passkey.pending ? "Waiting for your passkey…" : "Use a passkey"}
                </button>
              </li>
            )}
          </ul>
        </div>
      )}
    </>
  );
}

/**
 * The second step of a log-in, the same in both example apps: there is no Server Action for it, so the code
 * form posts to the auth API (which redirects back here on failure and to `next` on success) and, with
 * JavaScript, sends JSON instead; a passkey is offered once the page runs.
 */
export function SecondStepCard(props: SecondStepCardProps): ReactNode {
  return (
    <div className="card">
      <h1>Confirm it's you</h1>
      <SecondStep key={props.use} {...props} />
      <div className="card__footer">
        <p>Lost your authenticator app and your recovery codes? An administrator can reset them for you.</p>
        <p>
          <Link href={pathWithNext("/login", props.next)}>Back to log in</Link>
        </p>
      </div>
    </div>
  );
}
