import { getGatehouse } from "@shared/lib/gatehouse";
import { profileInput } from "gatehouse-auth";
import { readJsonBody } from "gatehouse-auth/next/app";
import { withRouteAuth } from "@/lib/auth";
import { methodNotAllowed } from "@/lib/http";

/** `GET /api/me`: 401 `unauthenticated`, or 200 `{ user }`. */
export const GET = withRouteAuth(async (_request, { user }) => Response.json({ user }));

/**
 * `PATCH /api/me {name}`: 200 `{ user }`. Only the name can change here: a `role` (or anything else) in the
 * body is ignored, so nobody can promote themselves.
 */
export const PATCH = withRouteAuth(async (request, { user }) =>
  Response.json({ user: await getGatehouse().updateProfile(user.id, profileInput(await readJsonBody(request))) }),
);

// Any other method: checked like the two above (CSRF, then the session), then 405 with `Allow`.
const notAllowed = withRouteAuth(async () => methodNotAllowed(["GET", "PATCH"]));

export { notAllowed as DELETE, notAllowed as POST, notAllowed as PUT };
