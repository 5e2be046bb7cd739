import Head from "next/head";
import type { ReactNode } from "react";

/** Sets the document title, which screen readers announce on each navigation. */
export function PageTitle({ title }: { title: string }): ReactNode {
  return (
    <Head>
      <title>{`${title} · Gatehouse`}</title>
    </Head>
  );
}
