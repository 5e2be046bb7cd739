import type { UserDTO } from "gatehouse-auth";
import { withPageAuth } from "gatehouse-auth/next";
import type { ReactNode } from "react";
import { AccountSettings } from "../components/AccountSettings";
import { EmailSettings } from "../components/EmailSettings";
import { PageTitle } from "../components/PageTitle";
import { devOutboxOpenTo } from "../lib/devOutbox";
import { getGatehouse } from "../lib/gatehouse";

type SettingsProps = {
  user: UserDTO;
  devOutbox: boolean;
};

export const getServerSideProps = withPageAuth<SettingsProps>(getGatehouse, {}, async ({ req }, { user }) => ({
  props: { user, devOutbox: devOutboxOpenTo(req) },
}));

/** Email, password and account deletion: each change asks for the current password. */
export default function SettingsPage({ user }: SettingsProps): ReactNode {
  return (
    <>
      <PageTitle title="Settings" />
      <div className="page-header">
        <h1>Settings</h1>
        <p className="lead">Each change asks for your current password.</p>
      </div>
      <div className="page-grid">
        <EmailSettings email={user.email} verified={user.emailVerified} />
        <AccountSettings />
      </div>
    </>
  );
}
