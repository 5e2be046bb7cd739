import type { AuthFailure } from "gatehouse-auth/react";
import { type RefObject, useEffect, useRef, useState } from "react";
import { messages } from "../lib/messages";

/** One page of a list as the API answers it, its items taken out of the answer. */
export type CursorPage<Item> = { ok: true; items: Item[]; nextCursor: string | null } | AuthFailure;

export interface CursorPages<Item> {
  /** The page's items; those of the page before while the next one loads, so nothing jumps. */
  items: Item[];
  /** Whether the first answer has come (`items` is empty until then). */
  loaded: boolean;
  loading: boolean;
  /** What went wrong with the last load, in the app's words. */
  error: string | null;
  /** 1 for the first page. */
  page: number;
  hasNext: boolean;
  next(): void;
  previous(): void;
  /** Loads the page again, e.g. after a failure. */
  retry(): void;
  /** For the list's heading (with `tabIndex={-1}`), which takes focus when another page has loaded. */
  heading: RefObject<HTMLHeadingElement | null>;
}

/**
 * A list read from the API a page at a time, forwards with each answer's `nextCursor` and back through the
 * cursors already seen. The filters are the page's (its address), so `load` is read once per page.
 */
export function useCursorPages<Item>(load: (cursor: string | null) => Promise<CursorPage<Item>>): CursorPages<Item> {
  // cursors[i] opens page i + 1: `null` the first.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [items, setItems] = useState<Item[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  // The load to make: a new object for each, so "Try again" loads the same cursor once more.
  const [request, setRequest] = useState<{ cursor: string | null }>({ cursor: null });
  const heading = useRef<HTMLHeadingElement>(null);
  const loader = useRef(load);
  loader.current = load;
  const moved = useRef(false);

  useEffect(() => {
    let current = true;
    setLoading(true);
    void loader.current(request.cursor).then((result) => {
      if (!current) return;
      setLoading(false);
      if (!result.ok) {
        setError(messages.error(result.error.code));
        return;
      }
      setError(null);
      setItems(result.items);
      setNextCursor(result.nextCursor);
      setLoaded(true);
      // After Next or Previous, the list's heading takes focus: the buttons may have moved or gone.
      if (moved.current) heading.current?.focus();
      moved.current = false;
    });
    return () => {
      current = false;
    };
  }, [request]);

  return {
    items,
    loaded,
    loading,
    error,
    page: cursors.length,
    hasNext: nextCursor !== null,
    next() {
      if (nextCursor === null || loading) return;
      moved.current = true;
      setCursors([...cursors, nextCursor]);
      setRequest({ cursor: nextCursor });
    },
    previous() {
      if (cursors.length < 2 || loading) return;
      moved.current = true;
      const back = cursors.slice(0, -1);
      setCursors(back);
      setRequest({ cursor: back[back.length - 1] ?? null });
    },
    retry() {
      setRequest({ ...request });
    },
    heading,
  };
}
