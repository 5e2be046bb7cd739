import { type ClientSession, toClientSession, verifySession } from "gatehouse-auth/next";
import { useSession } from "gatehouse-auth/react";
import type { GetServerSideProps } from "next";
import type { ReactNode } from "react";
import { HomeView } from "../components/HomeView";
import { PageTitle } from "../components/PageTitle";
import { getGatehouse } from "../lib/gatehouse";

export const getServerSideProps: GetServerSideProps<{ session: ClientSession }> = async ({ req, res }) => ({
  props: { session: toClientSession(await verifySession(getGatehouse, req, res)) },
});

export default function HomePage(): ReactNode {
  const signedIn = useSession().status === "authenticated";
  return (
    <>
      <PageTitle title="Authentication for Next.js" />
      <HomeView signedIn={signedIn} />
    </>
  );
}
