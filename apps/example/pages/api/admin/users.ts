import { withApiAuth } from "gatehouse-auth/next";
import { getGatehouse } from "../../../lib/gatehouse";

/** `GET /api/admin/users`: 401, 403 `forbidden`, or 200 `{ users }`. */
export default withApiAuth(getGatehouse, { permission: "users:read" }, async (req, res) => {
  if (req.method !== "GET") {
    res.setHeader("Allow", "GET");
    return res.status(405).json({ error: { code: "method_not_allowed", message: "Use GET." } });
  }
  return res.status(200).json({ users: await getGatehouse().users.list() });
});
