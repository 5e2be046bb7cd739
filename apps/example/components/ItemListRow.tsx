import type { ReactNode } from "react";

/**
 * One item of a card's `item-list` (a passkey, a connected account): its name and details, its buttons
 * (`actions`, `null` while one of them is open), and below them what is open of it (`children`).
 */
export function ItemListRow({
  name,
  meta,
  actions,
  children,
}: {
  name: string;
  meta: ReactNode;
  actions: ReactNode;
  children?: ReactNode;
}): ReactNode {
  return (
    <li className="item-list__item">
      <div className="item-list__summary">
        <div className="item-list__text">
          <strong className="item-list__name">{name}</strong>
          <span className="muted item-list__meta">{meta}</span>
        </div>
        {actions && <div className="item-list__actions">{actions}</div>}
      </div>
      {children}
    </li>
  );
}

/** One of an item's buttons: `label` says what it does, and its accessible name adds the item's, e.g. "Remove Laptop". */
export function ItemListAction({
  label,
  item,
  tone,
  onClick,
}: {
  label: string;
  item: string;
  /** The row's main action has the plain style; the others are secondary. */
  tone?: "secondary";
  onClick: () => void;
}): ReactNode {
  return (
    <button
      type="button"
      className={tone === "secondary" ? "button button--small button--secondary" : "button button--small"}
      aria-label={`${label} ${item}`}
      onClick={onClick}
    >
      {label}
    </button>
  );
}
