import type { ReactNode } from "react";
import { PageFrame } from "./PageFrame";
import { SiteHeader } from "./SiteHeader";

/** The frame of every page of the Pages Router app. */
export function Layout({ children }: { children: ReactNode }): ReactNode {
  return <PageFrame header={<SiteHeader />}>{children}</PageFrame>;
}
