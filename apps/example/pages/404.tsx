import type { ReactNode } from "react";
import { ErrorCard, NOT_FOUND } from "../components/ErrorCard";
import { PageTitle } from "../components/PageTitle";

export default function NotFoundPage(): ReactNode {
  return (
    <>
      <PageTitle title={NOT_FOUND.title} />
      <ErrorCard notice={NOT_FOUND} />
    </>
  );
}
