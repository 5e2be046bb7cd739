import { profileInput } from "gatehouse-auth";
import { readJsonBody, withApiAuth } from "gatehouse-auth/next";
import { getGatehouse } from "../../lib/gatehouse";

// readJsonBody reads and limits the body itself, so malformed JSON gets a JSON 400.
export const config = { api: { bodyParser: false } };

/**
 * `GET /api/me`: 401 `unauthenticated`, or 200 `{ user }`.
 * `PATCH /api/me {name}`: 200 `{ user }`. Only the name can change here: a `role` (or anything else) in the
 * body is ignored, so nobody can promote themselves.
 */
export default withApiAuth(getGatehouse, async (req, res, { user }) => {
  if (req.method === "GET") return res.status(200).json({ user });
  if (req.method === "PATCH") {
    const updated = await getGatehouse().updateProfile(user.id, profileInput(await readJsonBody(req)));
    return res.status(200).json({ user: updated });
  }
  res.setHeader("Allow", "GET, PATCH");
  return res.status(405).json({ error: { code: "method_not_allowed", message: "Use GET or PATCH." } });
});
