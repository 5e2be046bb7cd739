/** 405 with `Allow`, as the Pages Router app's API routes answer a method they do not take. */
export function methodNotAllowed(allow: readonly string[]): Response {
  const list = allow.join(" or ");
  return Response.json(
    { error: { code: "method_not_allowed", message: `Use ${list}.` } },
    { status: 405, headers: { Allow: allow.join(", ") } },
  );
}
