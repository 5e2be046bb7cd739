import { getServerSession } from "next-auth/next";
import { authOptions } from "../../lib/auth-options";

/** `GET /api/me`: 401, or 200 `{ user }` from the JWT session. */
export default async function me(req, res) {
  const session = await getServerSession(req, res, authOptions);
  if (!session?.user) return res.status(401).json({ error: { code: "unauthenticated" } });
  return res.status(200).json({ user: session.user });
}
