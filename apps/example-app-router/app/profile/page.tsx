import { ProfileView } from "@shared/components/ProfileView";
import { getGatehouse } from "@shared/lib/gatehouse";
import { toSessionRows } from "@shared/lib/sessions";
import type { ReactNode } from "react";
import { requireUser } from "@/lib/auth";
import { titled } from "@/lib/metadata";
import { NameForm } from "./NameForm";

export const metadata = titled("Profile");

export default async function ProfilePage(): Promise<ReactNode> {
  const { user, session } = await requireUser("/profile");
  return (
    <ProfileView
      user={user}
      sessions={toSessionRows(await getGatehouse().listSessions(user.id), session.id)}
      nameForm={<NameForm name={user.name} />}
    />
  );
}
