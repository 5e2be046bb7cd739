import { getGatehouse } from "@shared/lib/gatehouse";
import { withRouteAuth } from "@/lib/auth";
import { methodNotAllowed } from "@/lib/http";

/** `GET /api/admin/users`: 401, 403 `forbidden`, or 200 `{ users }`. */
export const GET = withRouteAuth(async () => Response.json({ users: await getGatehouse().users.list() }), {
  permission: "users:read",
});

// Any other method: checked like GET (CSRF, the session, the permission), then 405 with `Allow`.
const notAllowed = withRouteAuth(async () => methodNotAllowed(["GET"]), { permission: "users:read" });

export { notAllowed as DELETE, notAllowed as PATCH, notAllowed as POST, notAllowed as PUT };
