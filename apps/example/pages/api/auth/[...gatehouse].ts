import { gatehouseApiHandler } from "gatehouse-auth/next";
import { getGatehouse } from "../../../lib/gatehouse";

// Gatehouse reads and limits the body itself, so malformed JSON gets a JSON 400 rather than Next's text.
export const config = { api: { bodyParser: false } };

export default gatehouseApiHandler(getGatehouse);
