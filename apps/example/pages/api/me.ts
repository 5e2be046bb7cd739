import type { NextApiRequest, NextApiResponse } from "next";
import { withApiAuth } from "gatehouse/next";
import { getGatehouse } from "../../lib/gatehouse";

/** `GET /api/me`: 401 `unauthenticated`, or 200 `{ user }`. */
export default withApiAuth(getGatehouse, (req: NextApiRequest, res: NextApiResponse, { user }) => {
  if (req.method !== "GET") {
    res.setHeader("Allow", "GET");
    return res.status(405).json({ error: { code: "method_not_allowed", message: "Use GET." } });
  }
  return res.status(200).json({ user });
});
