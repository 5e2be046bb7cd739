import CredentialsProvider from "next-auth/providers/credentials";

/**
 * Credentials provider with JWT sessions, as next-auth 4 documents it. `authorize` refuses everyone: the
 * bench mints the session cookie itself with `next-auth/jwt`'s `encode`, so no log-in UI is driven.
 */
export const authOptions = {
  secret: process.env.NEXTAUTH_SECRET,
  session: { strategy: "jwt" },
  providers: [
    CredentialsProvider({
      name: "Email",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      authorize: async () => null,
    }),
  ],
};
