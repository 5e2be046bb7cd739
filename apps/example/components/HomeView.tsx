import Link from "next/link";
import type { ReactNode } from "react";
import { CheckIcon } from "./icons";

const FEATURES: ReadonlyArray<{ title: string; text: string }> = [
  {
    title: "Email and password",
    text: "Sign-up and log-in with Argon2id password hashing, and forms that work with or without JavaScript.",
  },
  {
    title: "Database or stateless sessions",
    text: "Keep sessions in your database to revoke them at once, or in a sealed cookie that needs no lookup.",
  },
  {
    title: "Roles and permissions",
    text: "Give each user a role and guard pages and API routes by the permissions that role grants.",
  },
  {
    title: "Checks in the proxy",
    text: "A fast cookie-only check in proxy.ts sends visitors to the right page; pages and APIs still verify every request.",
  },
];

function CallToAction({ signedIn }: { signedIn: boolean }): ReactNode {
  if (signedIn) {
    return (
      <div className="actions">
        <Link href="/dashboard" className="button">
          Go to your dashboard
        </Link>
      </div>
    );
  }
  return (
    <div className="actions">
      <Link href="/signup" className="button">
        Create an account
      </Link>
      <Link href="/login" className="button button--secondary">
        Log in
      </Link>
    </div>
  );
}

/** The home page of both example apps: what Gatehouse is, the way in (or back to the dashboard), and its features. */
export function HomeView({
  signedIn,
}: {
  /** Whether someone is signed in: they are offered their dashboard rather than sign-up and log-in. */
  signedIn: boolean;
}): ReactNode {
  return (
    <>
      <section className="hero" aria-labelledby="hero-title">
        <h1 id="hero-title">Authentication for Next.js that you own</h1>
        <p className="lead">
          Gatehouse runs inside your app and stores its data in your database. No hosted service, no vendor lock-in:
          your users, your sessions, your rules.
        </p>
        <CallToAction signedIn={signedIn} />
      </section>
      <section aria-labelledby="features-title">
        <h2 id="features-title">What you get</h2>
        <ul className="feature-grid">
          {FEATURES.map((feature) => (
            <li key={feature.title} className="feature">
              <h3>
                <CheckIcon />
                {feature.title}
              </h3>
              <p>{feature.text}</p>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
