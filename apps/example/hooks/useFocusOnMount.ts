import { type RefObject, useEffect, useRef } from "react";

/** A ref for the element that takes focus as it appears, e.g. the first control of a step that just opened. */
export function useFocusOnMount<Element extends HTMLElement>(): RefObject<Element | null> {
  const ref = useRef<Element>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return ref;
}
