import { type ReactNode, useEffect, useRef } from "react";
import { CheckIcon } from "./icons";

/**
 * A success message that takes focus when it appears, so keyboard and screen-reader users learn at once
 * that the form did its job (the form itself is usually replaced by it).
 */
export function SuccessNotice({ title, children }: { title: string; children?: ReactNode }): ReactNode {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <div ref={ref} className="alert alert--success" role="status" tabIndex={-1}>
      <CheckIcon />
      <div>
        <p className="alert__title">{title}</p>
        {children}
      </div>
    </div>
  );
}
