import { useRouter } from "next/router";
import type { ReactNode } from "react";
import { LogoutButton } from "./LogoutButton";
import { SiteHeaderView } from "./SiteHeaderView";

/** The site header of the Pages Router app. */
export function SiteHeader(): ReactNode {
  const { pathname } = useRouter();
  return <SiteHeaderView pathname={pathname} logoutButton={<LogoutButton />} />;
}
