import type { UserDTO } from "gatehouse-auth";
import { withPageAuth } from "gatehouse-auth/next";
import type { ReactNode } from "react";
import { PageTitle } from "../components/PageTitle";
import { ProfileView } from "../components/ProfileView";
import { getGatehouse } from "../lib/gatehouse";
import { type SessionRow, toSessionRows } from "../lib/sessions";

type ProfileProps = {
  user: UserDTO;
  sessions: SessionRow[];
};

export const getServerSideProps = withPageAuth<ProfileProps>(getGatehouse, {}, async (_context, { user, session }) => ({
  props: { user, sessions: toSessionRows(await getGatehouse().listSessions(user.id), session.id) },
}));

export default function ProfilePage({ user, sessions }: ProfileProps): ReactNode {
  return (
    <>
      <PageTitle title="Profile" />
      <ProfileView user={user} sessions={sessions} />
    </>
  );
}
