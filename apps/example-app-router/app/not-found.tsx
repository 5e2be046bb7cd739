import { ErrorCard, NOT_FOUND } from "@shared/components/ErrorCard";
import type { ReactNode } from "react";
import { titled } from "@/lib/metadata";

export const metadata = titled(NOT_FOUND.title);

export default function NotFoundPage(): ReactNode {
  return <ErrorCard notice={NOT_FOUND} />;
}
