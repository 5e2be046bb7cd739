"use client";

import { SiteHeaderView } from "@shared/components/SiteHeaderView";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { LogoutButton } from "./LogoutButton";

/** The site header of the App Router app. */
export function SiteHeader(): ReactNode {
  return <SiteHeaderView pathname={usePathname()} logoutButton={<LogoutButton />} />;
}
