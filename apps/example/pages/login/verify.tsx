import { browserSupportsWebAuthn, startAuthentication } from "@simplewebauthn/browser";
import { safeRedirectPath } from "gatehouse-auth";
import { type ClientSession, verifySession } from "gatehouse-auth/next";
import {
  type AuthFailure,
  type AuthResult,
  getSecondFactorPasskeyOptions,
  type SecondFactorMethod,
  verifySecondFactor,
} from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import Link from "next/link";
import { type ReactNode, useEffect, useRef, useState } from "react";
import { Field } from "../../components/Field";
import { FormAlert } from "../../components/FormAlert";
import { PageTitle } from "../../components/PageTitle";
import { useForm } from "../../hooks/useForm";
import type { PasskeyProblem } from "../../hooks/usePasskeySignIn";
import { DEFAULT_NEXT, loginAgainPath, methodsOf, pathWithNext, secondStepPath } from "../../lib/authPaths";
import { formValue } from "../../lib/forms";
import { getGatehouse } from "../../lib/gatehouse";
import { messages } from "../../lib/messages";
import { passkeyProblem } from "../../lib/passkeys";

/** Which code the form asks for: one from the authenticator app, or a recovery code. */
type CodeKind = "totp" | "recovery";

interface VerifyProps {
  session: ClientSession;
  /** Where to go once signed in; a path on this site. */
  next: string;
  /** The error code of a failed plain form post. */
  error: string | null;
  /** The ways the server offered for this log-in (all of them after a plain form post, which does not say). */
  methods: SecondFactorMethod[];
  use: CodeKind;
}

export const getServerSideProps: GetServerSideProps<VerifyProps> = async ({ req, res, query }) => {
  const next = safeRedirectPath(query.next, DEFAULT_NEXT);
  const auth = await verifySession(getGatehouse, req, res);
  if (auth) return { redirect: { destination: next, permanent: false } };
  return {
    props: {
      session: { user: null },
      next,
      error: typeof query.error === "string" ? query.error : null,
      methods: methodsOf(query.methods),
      use: query.use === "recovery" ? "recovery" : "totp",
    },
  };
};

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
function SecondStep({ next, error, methods, use }: Omit<VerifyProps, "session">): ReactNode {
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
 * The second step of a log-in whose password was right: a code from the authenticator app, a recovery
 * code, or a passkey. The codes work as a plain form post too; the API redirects back here on failure, to
 * `next` on success, and to the log-in page when the five minutes of the pending log-in are over.
 */
export default function VerifyPage({ next, error, methods, use }: VerifyProps): ReactNode {
  return (
    <>
      <PageTitle title="Confirm it's you" />
      <div className="card">
        <h1>Confirm it's you</h1>
        <SecondStep key={use} next={next} error={error} methods={methods} use={use} />
        <div className="card__footer">
          <p>Lost your authenticator app and your recovery codes? An administrator can reset them for you.</p>
          <p>
            <Link href={pathWithNext("/login", next)}>Back to log in</Link>
          </p>
        </div>
      </div>
    </>
  );
}
