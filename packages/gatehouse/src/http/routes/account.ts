import { inputs } from "../inputs.js";
import { jsonResponse } from "../response.js";
import type { Route } from "../router.js";

/** The signed-in user's password and account. */
export const accountRoutes: readonly Route[] = [
  {
    path: "password",
    method: "POST",
    signedIn: true,
    async handle({ gatehouse, auth, body, meta }) {
      const changed = await gatehouse.changePassword(auth, inputs.changePassword(body), meta);
      return jsonResponse(200, { user: changed.user }, [changed.setCookie, changed.deviceCookie]);
    },
  },
  {
    path: "account",
    method: "DELETE",
    signedIn: true,
    async handle({ gatehouse, auth, body, meta }) {
      const clear = await gatehouse.deleteAccount(auth, inputs.deleteAccount(body), meta);
      return jsonResponse(200, { ok: true }, [clear]);
    },
  },
];
