import { useSession } from "gatehouse-auth/react";
import Link from "next/link";
import type { ReactNode } from "react";
import { ImpersonationBanner } from "./ImpersonationBanner";

function NavLink({
  href,
  pathname,
  section = false,
  children,
}: {
  href: string;
  pathname: string;
  /** Marked on the pages below it too (the admin console's), as the section they belong to. */
  section?: boolean;
  children: ReactNode;
}): ReactNode {
  const current = pathname === href ? "page" : section && pathname.startsWith(`${href}/`) ? "true" : undefined;
  return (
    <li>
      <Link href={href} aria-current={current}>
        {children}
      </Link>
    </li>
  );
}

/**
 * The site name and the navigation, which depends on whether someone is signed in, and above them the banner
 * of an administrator viewing the app as the user. Each router's `SiteHeader` gives it the current path and
 * its log-out button.
 */
export function SiteHeaderView({ pathname, logoutButton }: { pathname: string; logoutButton: ReactNode }): ReactNode {
  const session = useSession();
  return (
    <>
      <ImpersonationBanner />
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
                  <NavLink href="/admin" pathname={pathname} section>
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
    </>
  );
}
