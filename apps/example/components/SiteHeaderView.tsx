import { useSession } from "gatehouse-auth/react";
import Link from "next/link";
import type { ReactNode } from "react";

function NavLink({ href, pathname, children }: { href: string; pathname: string; children: ReactNode }): ReactNode {
  return (
    <li>
      <Link href={href} aria-current={pathname === href ? "page" : undefined}>
        {children}
      </Link>
    </li>
  );
}

/**
 * The site name and the navigation, which depends on whether someone is signed in. Each router's
 * `SiteHeader` gives it the current path and its log-out button.
 */
export function SiteHeaderView({ pathname, logoutButton }: { pathname: string; logoutButton: ReactNode }): ReactNode {
  const session = useSession();
  return (
    <header className="site-header">
      <div className="site-header__inner">
        <Link href="/" className="brand">
          Gatehouse
        </Link>
        <nav aria-label="Main">
          {session.status === "authenticated" && (
            <ul className="nav-list">
              <NavLink href="/dashboard" pathname={pathname}>
                Dashboard
              </NavLink>
              <NavLink href="/profile" pathname={pathname}>
                Profile
              </NavLink>
              <NavLink href="/settings" pathname={pathname}>
                Settings
              </NavLink>
              {session.user.role === "admin" && (
                <NavLink href="/admin" pathname={pathname}>
                  Admin
                </NavLink>
              )}
              <li className="nav-user" title={session.user.email}>
                {session.user.email}
              </li>
              <li>{logoutButton}</li>
            </ul>
          )}
          {session.status === "unauthenticated" && (
            <ul className="nav-list">
              <NavLink href="/login" pathname={pathname}>
                Log in
              </NavLink>
              <NavLink href="/signup" pathname={pathname}>
                Sign up
              </NavLink>
            </ul>
          )}
        </nav>
      </div>
    </header>
  );
}
