import type { ReactNode } from "react";

/** The frame of every page: a skip link, the header and the page's content in `<main id="main">`. */
export function PageFrame({ header, children }: { header: ReactNode; children: ReactNode }): ReactNode {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      {header}
      {/* tabIndex lets the skip link move keyboard focus, not only the scroll position. */}
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer className="site-footer">
        <div className="site-footer__inner">
          <p>Gatehouse example app: authentication for Next.js that you own and run.</p>
        </div>
      </footer>
    </>
  );
}
