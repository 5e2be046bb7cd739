import type { ReactNode } from "react";
import { PageTitle } from "./PageTitle";

/** Shown, with status 503, when the session store cannot be reached: nobody is let in until it is back. */
export function Unavailable(): ReactNode {
  return (
    <>
      <PageTitle title="Temporarily unavailable" />
      <div className="card card--notice" role="alert">
        <h1>Temporarily unavailable</h1>
        <p>We can't check your session right now. Nothing has been lost — please try again in a moment.</p>
      </div>
    </>
  );
}
