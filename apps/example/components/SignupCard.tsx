import type { OAuthProviderSummary } from "gatehouse-auth/react";
import Link from "next/link";
import type { ReactNode } from "react";
import { pathWithNext, welcomePath } from "../lib/authPaths";
import type { FormCardProps } from "./cardForm";
import { EmailField } from "./EmailField";
import { FormAlert } from "./FormAlert";
import { NameField } from "./NameField";
import { NewPasswordField } from "./NewPasswordField";
import { ProviderButtons } from "./ProviderButtons";

export interface SignupCardProps extends FormCardProps<"name" | "email"> {
  /** Where to go after signing up; a path on this site. */
  next: string;
  /** The enabled sign-in providers, each a "Continue with …" link. */
  providers: OAuthProviderSummary[];
}

/** The sign-up card of both example apps: name, email and a new password, sent as the app's `form` says. */
export function SignupCard({ next, providers, form, pending, outcome, values }: SignupCardProps): ReactNode {
  const loginPath = pathWithNext("/login", next);
  return (
    <div className="card">
      <h1>Create your account</h1>
      {outcome && (
        <FormAlert key={outcome.attempt} title="Could not create your account">
          {outcome.message}
          {outcome.code === "email_taken" && (
            <>
              {" "}
              <Link href={loginPath}>Log in instead?</Link>
            </>
          )}
        </FormAlert>
      )}
      <form {...form} className="form">
        {/* The dashboard greets a new account: the flag rides in `next`, which a plain form post goes on to. */}
        <input type="hidden" name="next" value={welcomePath(next)} />
        <NameField defaultValue={values?.name} error={outcome?.fields.name} />
        <EmailField defaultValue={values?.email} error={outcome?.fields.email} />
        <NewPasswordField name="password" label="Password" error={outcome?.fields.password} />
        <button type="submit" className="button button--block" disabled={pending}>
          {pending ? "Creating account…" : "Create account"}
        </button>
      </form>
      {providers.length > 0 && (
        <div className="alternative">
          <p className="alternative__label">or</p>
          {/* The same links as on the log-in page: a provider's account makes a new one here or logs in. */}
          <ProviderButtons providers={providers} next={next} />
        </div>
      )}
      <p className="card__footer">
        Already have an account? <Link href={loginPath}>Log in</Link>
      </p>
    </div>
  );
}
