import { useSession } from "gatehouse-auth/react";
import Link from "next/link";
import { useRouter } from "next/router";
import type { ReactNode } from "react";
import { LogoutButton } from "./LogoutButton";

function NavLink({ href, children }: { href: string; children: ReactNode }): ReactNode {
  const { pathname } = useRouter();
  return (
    <li>
      <Link href={href} aria-current={pathname === href ? "page" : undefined}>
        {children}
      </Link>
    </li>
  );
}

/** The site name and the navigation, which depends on whether someone is signed in. */
export function SiteHeader(): ReactNode {
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
              <NavLink href="/dashboard">Dashboard</NavLink>
              <NavLink href="/profile">Profile</NavLink>
              <NavLink href="/settings">Settings</NavLink>
              {session.user.role === "admin" && <NavLink href="/admin">Admin</NavLink>}
              <li className="nav-user" title={session.user.email}>
                {session.user.email}
              </li>
              <li>
                <LogoutButton />
              </li>
            </ul>
          )}
          {session.status === "unauthenticated" && (
            <ul className="nav-list">
              <NavLink href="/login">Log in</NavLink>
              <NavLink href="/signup">Sign up</NavLink>
            </ul>
          )}
        </nav>
      </div>
    </header>
  );
}
