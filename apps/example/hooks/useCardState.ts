import { type RefObject, useRef, useState } from "react";

export interface CardState<Open> {
  /** What is open in the card (a form, or one item's action), or `null` for nothing. */
  open: Open | null;
  /** What the last closed action did, for the card's `role="status"` line; `""` for nothing. */
  notice: string;
  /** For the card's heading (with `tabIndex={-1}`), where focus goes when what was open closes. */
  heading: RefObject<HTMLHeadingElement | null>;
  /** Opens `next` in place of what was open, and forgets the last notice. */
  openFor(next: Open): void;
  /** Closes what was open and shows `message`; its controls are gone, so focus goes to the card's heading. */
  close(message: string): void;
}

/**
 * A settings card whose actions open in place, one at a time: what is open, the notice of the last one
 * closed, and the heading that takes focus when it closes (rather than the page's start).
 */
export function useCardState<Open>(): CardState<Open> {
  const [open, setOpen] = useState<Open | null>(null);
  const [notice, setNotice] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);

  function openFor(next: Open): void {
    setNotice("");
    setOpen(next);
  }

  function close(message: string): void {
    setOpen(null);
    setNotice(message);
    heading.current?.focus();
  }

  return { open, notice, heading, openFor, close };
}
