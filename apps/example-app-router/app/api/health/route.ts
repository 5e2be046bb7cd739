/** `GET /api/health`: always 200, no session; the baseline for benchmarks. */
export function GET(): Response {
  return Response.json({ status: "ok" });
}
