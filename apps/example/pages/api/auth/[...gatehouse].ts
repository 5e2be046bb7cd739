import { gatehouseApiHandler } from "gatehouse-auth/next";
import { SIGNED_OUT_PATH } from "../../../lib/authPaths";
import { getGatehouse } from "../../../lib/gatehouse";

// Gatehouse reads and limits the body itself, so malformed JSON gets a JSON 400 rather than Next's text.
export const config = { api: { bodyParser: false } };

// The plain log-out form post lands where the JSON call navigates to: the log-in page, saying so.
export default gatehouseApiHandler(getGatehouse, { pages: { afterLogout: SIGNED_OUT_PATH } });
