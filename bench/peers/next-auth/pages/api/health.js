/** `GET /api/health`: always 200, no session; the baseline. */
export default function health(_req, res) {
  res.status(200).json({ status: "ok" });
}
