import { withApiAuth } from "gatehouse-auth/next";
import type { NextApiRequest, NextApiResponse } from "next";
import { getGatehouse } from "../../../lib/gatehouse";

/** `GET /api/admin/users`: 401, 403 `forbidden`, or 200 `{ users }`. */
export default withApiAuth(
  getGatehouse,
  async (req: NextApiRequest, res: NextApiResponse) => {
    if (req.method !== "GET") {
      res.setHeader("Allow", "GET");
      return res.status(405).json({ error: { code: "method_not_allowed", message: "Use GET." } });
    }
    return res.status(200).json({ users: await getGatehouse().users.list() });
  },
  { permission: "users:read" },
);
