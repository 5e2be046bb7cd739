import { gatehouseAdminHandler } from "gatehouse-auth/next";
import { getGatehouse } from "../../../lib/gatehouse";

// As for the auth API: Gatehouse reads and limits the body itself, so malformed JSON gets a JSON 400.
export const config = { api: { bodyParser: false } };

/** The admin console's API (`/api/admin/users`, `/audit`, `/mail`, …): admins only, each write with their password. */
export default gatehouseAdminHandler(getGatehouse);
