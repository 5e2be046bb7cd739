import type { ReactNode } from "react";
import { ErrorCard, SERVER_ERROR } from "../components/ErrorCard";
import { PageTitle } from "../components/PageTitle";

export default function ServerErrorPage(): ReactNode {
  return (
    <>
      <PageTitle title={SERVER_ERROR.title} />
      <ErrorCard notice={SERVER_ERROR} />
    </>
  );
}
