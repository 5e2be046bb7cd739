import { type ReactNode, useEffect, useRef } from "react";
import { ErrorIcon } from "./icons";

/**
 * The form-level error. It takes focus when it appears so that keyboard and screen-reader users land on
 * it after a failed submit; give it a new `key` per attempt so a repeated error is announced again.
 */
export function FormAlert({ title, children }: { title: string; children: ReactNode }): ReactNode {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <div ref={ref} className="alert alert--error" role="alert" tabIndex={-1}>
      <ErrorIcon />
      <div>
        <p className="alert__title">{title}</p>
        <p>{children}</p>
      </div>
    </div>
  );
}
