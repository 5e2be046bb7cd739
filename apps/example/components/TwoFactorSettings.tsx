"use client";

import {
  confirmTotp,
  disableTotp,
  type MfaStatus,
  regenerateRecoveryCodes,
  setUpTotp,
  type TotpSetup,
} from "gatehouse-auth/react";
import { type ReactNode, useEffect, useRef, useState } from "react";
import { useForm } from "../hooks/useForm";
import { formValue } from "../lib/forms";
import { Field } from "./Field";
import { FormActions } from "./FormActions";
import { FormAlert } from "./FormAlert";
import { PasswordConfirm } from "./PasswordConfirm";
import { RecoveryCodes } from "./RecoveryCodes";

/** Where the card is in turning two-factor authentication on and off. */
type Step =
  | { name: "off"; confirming: boolean }
  | { name: "setup"; setup: TotpSetup }
  | { name: "codes"; title: string; codes: string[] }
  | { name: "on"; codesLeft: number; confirming: "regenerate" | "disable" | null };

/** Below this many recovery codes the card suggests new ones. */
const FEW_CODES = 3;

/** The secret in groups of four, as authenticator apps show keys: easier to read out and to type. */
function grouped(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(" ") ?? secret;
}

/** Scan (or type) the new secret, then confirm it with a first code; the answer is the recovery codes. */
function TotpSetupStep({
  setup,
  onConfirmed,
  onCancel,
}: {
  setup: TotpSetup;
  onConfirmed: (codes: string[]) => void;
  onCancel: () => void;
}): ReactNode {
  const confirm = useForm((form) => confirmTotp({ code: formValue(form, "totpCode") }), {
    onSuccess: (result) => onConfirmed(result.recoveryCodes),
  });
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  const failure = confirm.outcome && !confirm.outcome.ok ? confirm.outcome : null;
  return (
    <div className="totp-setup">
      <h3 ref={heading} tabIndex={-1}>
        Set up your authenticator app
      </h3>
      <ol className="setup-steps">
        <li>
          <p>Scan this QR code with an authenticator app, such as 1Password, Google Authenticator or Aegis.</p>
          {/* As an image, so nothing in the server's SVG can run or style the page. */}
          {/* biome-ignore lint/performance/noImgElement: a data: URL made for this user, nothing to optimise */}
          <img
            className="qr-code"
            src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qrSvg)}`}
            alt="QR code with the key below"
            width={200}
            height={200}
          />
          <p>
            Can't scan it? Enter this key instead: <code className="totp-secret">{grouped(setup.secret)}</code>
          </p>
        </li>
        <li>
          <p>Enter the 6-digit code the app shows to turn two-factor authentication on.</p>
          {failure && (
            <FormAlert key={failure.attempt} title="Two-factor authentication is still off">
              {failure.message}
            </FormAlert>
          )}
          <form className="form" onSubmit={confirm.onSubmit}>
            <Field
              name="totpCode"
              label="Code from the app"
              type="text"
              inputMode="numeric"
              autoComplete="one-time-code"
              required
              maxLength={12}
              error={failure?.fields.code}
            />
            <FormActions
              pending={confirm.pending}
              submitLabel="Turn on"
              pendingLabel="Turning on…"
              onCancel={onCancel}
            />
          </form>
        </li>
      </ol>
    </div>
  );
}

/**
 * Two-factor authentication with an authenticator app (TOTP): set it up with the password, a QR code and a
 * first code; then see how many recovery codes are left, make new ones, or turn it off. `status` is the
 * server's, from `getServerSideProps`. Needs JavaScript.
 */
export function TwoFactorSettings({ email, status }: { email: string; status: MfaStatus }): ReactNode {
  const [step, setStep] = useState<Step>(() =>
    status.totp
      ? { name: "on", codesLeft: status.recoveryCodesLeft, confirming: null }
      : { name: "off", confirming: false },
  );
  const [notice, setNotice] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);

  /** Moves to a step whose old controls are gone: focus goes to the card's heading, not to the page's start. */
  function settle(next: Step, message: string): void {
    setStep(next);
    setNotice(message);
    heading.current?.focus();
  }

  let body: ReactNode;
  switch (step.name) {
    case "off":
      body = (
        <>
          <p>
            <span className="badge badge--warning">Off</span> After your password, also ask for a code from an
            authenticator app on your phone, so that a stolen password is not enough.
          </p>
          {step.confirming ? (
            <PasswordConfirm
              name="totpSetupPassword"
              submitLabel="Continue"
              pendingLabel="Checking…"
              failureTitle="Two-factor authentication was not set up"
              send={(password) => setUpTotp({ password })}
              onSuccess={(setup) => {
                setNotice("");
                setStep({ name: "setup", setup });
              }}
              onCancel={() => settle({ name: "off", confirming: false }, "")}
            />
          ) : (
            <button
              type="button"
              className="button"
              onClick={() => {
                setNotice("");
                setStep({ name: "off", confirming: true });
              }}
            >
              Set up two-factor authentication
            </button>
          )}
        </>
      );
      break;
    case "setup":
      body = (
        <TotpSetupStep
          setup={step.setup}
          onConfirmed={(codes) => setStep({ name: "codes", title: "Two-factor authentication is on", codes })}
          onCancel={() => settle({ name: "off", confirming: false }, "Two-factor authentication is still off.")}
        />
      );
      break;
    case "codes":
      body = (
        <RecoveryCodes
          title={step.title}
          email={email}
          codes={step.codes}
          onDone={() => settle({ name: "on", codesLeft: step.codes.length, confirming: null }, "")}
        />
      );
      break;
    case "on": {
      const { codesLeft, confirming } = step;
      body = (
        <>
          <p>
            <span className="badge">On</span> Every log-in with your password also asks for a code from your
            authenticator app.
          </p>
          <p>
            <strong>{codesLeft === 1 ? "1 recovery code" : `${codesLeft} recovery codes`} left.</strong>{" "}
            {codesLeft < FEW_CODES
              ? "Make new ones before you run out."
              : "Each one lets you log in once without the app."}
          </p>
          {confirming === "regenerate" && (
            <PasswordConfirm
              name="recoveryCodesPassword"
              submitLabel="Make new codes"
              pendingLabel="Making codes…"
              failureTitle="No new recovery codes were made"
              send={(password) => regenerateRecoveryCodes({ password })}
              onSuccess={(result) =>
                setStep({ name: "codes", title: "New recovery codes", codes: result.recoveryCodes })
              }
              onCancel={() => settle({ ...step, confirming: null }, "")}
            >
              <p>Make new recovery codes? The old ones stop working.</p>
            </PasswordConfirm>
          )}
          {confirming === "disable" && (
            <PasswordConfirm
              name="totpDisablePassword"
              submitLabel="Turn off"
              pendingLabel="Turning off…"
              failureTitle="Two-factor authentication is still on"
              tone="danger"
              send={(password) => disableTotp({ password })}
              onSuccess={() => settle({ name: "off", confirming: false }, "Two-factor authentication is off.")}
              onCancel={() => settle({ ...step, confirming: null }, "")}
            >
              <p>
                Turn off two-factor authentication? Log-ins will then need only your password, and your recovery codes
                stop working.
              </p>
            </PasswordConfirm>
          )}
          {confirming === null && (
            <div className="actions">
              <button
                type="button"
                className="button button--secondary"
                onClick={() => {
                  setNotice("");
                  setStep({ ...step, confirming: "regenerate" });
                }}
              >
                New recovery codes
              </button>
              <button
                type="button"
                className="button button--secondary"
                onClick={() => {
                  setNotice("");
                  setStep({ ...step, confirming: "disable" });
                }}
              >
                Turn off
              </button>
            </div>
          )}
        </>
      );
      break;
    }
  }

  return (
    <section className="card card--wide" aria-labelledby="two-factor-heading">
      <h2 id="two-factor-heading" ref={heading} tabIndex={-1}>
        Two-factor authentication
      </h2>
      <p role="status" className="status--success">
        {notice}
      </p>
      {body}
    </section>
  );
}
