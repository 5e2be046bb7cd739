import { HomeView } from "@shared/components/HomeView";
import type { ReactNode } from "react";
import { getSession } from "@/lib/auth";
import { titled } from "@/lib/metadata";

export const metadata = titled("Authentication for Next.js");

export default async function HomePage(): Promise<ReactNode> {
  return <HomeView signedIn={(await getSession()) !== null} />;
}
