import type { NextApiRequest, NextApiResponse } from "next";

/** `GET /api/health`: always 200, no session; the baseline for benchmarks. */
export default function health(_req: NextApiRequest, res: NextApiResponse) {
  res.status(200).json({ status: "ok" });
}
