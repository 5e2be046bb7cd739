import Link from "next/link";
import type { ReactNode } from "react";

/** The admin console's sections. */
export type AdminSection = "users" | "audit" | "mail";

const SECTIONS: readonly { id: AdminSection; href: string; label: string }[] = [
  { id: "users", href: "/admin", label: "Users" },
  { id: "audit", href: "/admin/audit", label: "Audit log" },
  { id: "mail", href: "/admin/mail", label: "Mail" },
];

/**
 * The admin console's own navigation, under the site's. The section shown is marked for everyone: as the
 * page itself, or (`nested`, e.g. one user's page under Users) as the section the page belongs to.
 */
export function AdminNav({ current, nested = false }: { current: AdminSection; nested?: boolean }): ReactNode {
  return (
    <nav className="admin-nav" aria-label="Admin console">
      <ul>
        {SECTIONS.map((section) => (
          <li key={section.id}>
            <Link
              href={section.href}
              className="admin-nav__link"
              aria-current={section.id !== current ? undefined : nested ? "true" : "page"}
            >
              {section.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
