import type { ReactNode } from "react";

// Decorative: every icon sits next to text that says the same, so colour and shape are never the only cue.

export function ErrorIcon(): ReactNode {
  return (
    <svg className="icon" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false">
      <circle cx="10" cy="10" r="9" fill="currentColor" />
      <rect x="9" y="5" width="2" height="7" rx="1" fill="var(--icon-contrast)" />
      <circle cx="10" cy="14.5" r="1.25" fill="var(--icon-contrast)" />
    </svg>
  );
}

export function CheckIcon(): ReactNode {
  return (
    <svg className="icon" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false">
      <circle cx="10" cy="10" r="9" fill="currentColor" />
      <path
        d="M6 10.5l2.5 2.5L14 7.5"
        fill="none"
        stroke="var(--icon-contrast)"
        strokeWidth="2"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
