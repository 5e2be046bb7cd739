import type { UserEvent } from "../../core/account.js";
import { InvalidInputError } from "../../errors.js";
import { jsonResponse } from "../response.js";
import type { Route } from "../router.js";

/** An event as the API answers with it: its time as an ISO string. */
export function publicEventJson(event: UserEvent) {
  return {
    id: event.id,
    at: event.at.toISOString(),
    type: event.type,
    outcome: event.outcome,
    ip: event.ip,
    userAgent: event.userAgent,
    detail: event.detail,
    actor: event.actor,
  };
}

/** `?limit=` as a number: digits only (the core checks the range); absent or empty is the default. */
export function limitParam(query: URLSearchParams): number | undefined {
  const raw = query.get("limit");
  if (raw === null || raw === "") return undefined;
  if (!/^\d{1,4}$/.test(raw)) {
    throw new InvalidInputError({ limit: { code: "invalid_format", message: "The limit is a whole number." } });
  }
  return Number(raw);
}

/** The signed-in user's own security events ("Signed in from … on …"). */
export const eventRoutes: readonly Route[] = [
  {
    path: "events",
    method: "GET",
    signedIn: true,
    async handle({ gatehouse, auth, request, renewed }) {
      const cursor = request.query.get("cursor") || null;
      const page = await gatehouse.listEvents(auth, { cursor, limit: limitParam(request.query) });
      return jsonResponse(200, { events: page.events.map(publicEventJson), nextCursor: page.nextCursor }, renewed);
    },
  },
];
