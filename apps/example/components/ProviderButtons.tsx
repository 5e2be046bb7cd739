import { type OAuthProviderSummary, oauthSignInUrl } from "gatehouse-auth/react";
import type { ReactNode } from "react";

/**
 * "Continue with …" for each enabled sign-in provider. Plain links to the auth API, which sends the browser
 * on to the provider and back to `next`, so they work without JavaScript; they log in an existing account
 * or create a new one alike.
 */
export function ProviderButtons({
  providers,
  next,
}: {
  providers: readonly OAuthProviderSummary[];
  /** Where to land afterwards; a path on this site (the server checks it again). */
  next: string;
}): ReactNode {
  return (
    <ul className="alternative__list">
      {providers.map((provider) => (
        <li key={provider.id}>
          <a className="button button--secondary button--block" href={oauthSignInUrl(provider.id, { next })}>
            Continue with {provider.name}
          </a>
        </li>
      ))}
    </ul>
  );
}
