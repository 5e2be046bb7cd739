import type { ReactNode } from "react";
import type { CursorPages } from "../hooks/useCursorPages";
import { ErrorIcon } from "./icons";

/**
 * What a paged list says above its items: "Loading…", how many there are on this page, that there are none,
 * or that loading failed, with a way to try again. The line is a live region, so a new page is announced.
 */
export function ListStatus({
  list,
  loadingText,
  emptyText,
  countText,
}: {
  list: CursorPages<unknown>;
  loadingText: string;
  emptyText: string;
  countText: string;
}): ReactNode {
  const text = list.loading ? loadingText : list.error ? "" : list.items.length === 0 ? emptyText : countText;
  return (
    <>
      <p role="status" className="list-status muted">
        {text}
      </p>
      {list.error && !list.loading && (
        <div className="alert alert--error" role="alert">
          <ErrorIcon />
          <div>
            <p className="alert__title">The list could not be loaded</p>
            <p>{list.error}</p>
            <button type="button" className="button button--small button--secondary alert__action" onClick={list.retry}>
              Try again
            </button>
          </div>
        </div>
      )}
    </>
  );
}

/** Previous and Next under a paged list, and which page this is; nothing while everything fits on one. */
export function Pager({ list, label }: { list: CursorPages<unknown>; label: string }): ReactNode {
  if (list.page === 1 && !list.hasNext) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button
        type="button"
        className="button button--small button--secondary"
        disabled={list.page === 1 || list.loading}
        onClick={list.previous}
      >
        Previous page
      </button>
      <span className="pager__page">Page {list.page}</span>
      <button
        type="button"
        className="button button--small button--secondary"
        disabled={!list.hasNext || list.loading}
        onClick={list.next}
      >
        Next page
      </button>
    </nav>
  );
}
