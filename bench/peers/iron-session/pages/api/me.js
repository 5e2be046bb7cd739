import { getIronSession } from "iron-session";

// The cookie iron-session seals with IRON_SESSION_PASSWORD; the bench mints it with `sealData`.
const options = {
  password: process.env.IRON_SESSION_PASSWORD,
  cookieName: "iron-session",
  cookieOptions: { secure: false },
};

/** `GET /api/me`: 401, or 200 `{ user }` from the sealed cookie. */
export default async function me(req, res) {
  const session = await getIronSession(req, res, options);
  if (!session.user) return res.status(401).json({ error: { code: "unauthenticated" } });
  return res.status(200).json({ user: session.user });
}
