// The goals of issue 5, checked against a results object. `met` is true, false, or null (not measured).

const fmt = (n, digits = 2) => (n === null || n === undefined || Number.isNaN(n) ? "—" : n.toFixed(digits));

/** `profile` names the workload to profile when the goal is missed (see profile.mjs). */
function goal(area, target, measured, met, profile = null) {
  return { area, target, measured, met, profile };
}

export function evaluateGoals(results) {
  const goals = [];
  const checks = new Map((results.checks?.results ?? []).map((r) => [r.id, r]));
  const stateless = checks.get("gatehouse-stateless");
  const notRun = (area, target) => goals.push(goal(area, target, "not measured", null));

  // A cookie's first request decrypts it; later ones are answered from the check's memory. Both are shown.
  const cold = checks.get("gatehouse-stateless-cold");
  const firstSight = (value) => (value === null ? "" : ` (a cookie's first request: ${value})`);
  if (stateless) {
    goals.push(
      goal(
        "stateless check",
        "≤ 2× the raw AES-GCM floor",
        `${fmt(stateless.xFloor)}×${firstSight(cold ? `${fmt(cold.xFloor)}×` : null)}`,
        stateless.xFloor <= 2,
        "case:gatehouse-stateless",
      ),
    );
    for (const [id, name, times] of [
      ["jose-jwe", "jose `jwtDecrypt`", 20],
      ["iron-session", "iron-session", 100],
      ["authjs", "@auth/core", 150],
    ]) {
      const peer = checks.get(id);
      const faster = peer ? peer.us.median / stateless.us.median : null;
      const fasterCold = peer && cold ? `${fmt(peer.us.median / cold.us.median, 1)}×` : null;
      goals.push(
        goal(
          "stateless check",
          `≥ ${times}× faster than ${name}`,
          `${fmt(faster, 1)}×${firstSight(fasterCold)}`,
          faster === null ? null : faster >= times,
          "case:gatehouse-stateless",
        ),
      );
    }
  } else notRun("stateless check", "≤ 2× the AES-GCM floor; ≥ 20× jose, ≥ 100× iron-session, ≥ 150× @auth/core");

  const sqlite = checks.get("gatehouse-db-sqlite");
  if (sqlite)
    goals.push(
      goal(
        "database check, SQLite",
        "≤ 2× (SHA-256 + raw prepared SELECT)",
        `${fmt(sqlite.xFloor)}×`,
        sqlite.xFloor <= 2,
        "case:gatehouse-db-sqlite",
      ),
    );
  else notRun("database check, SQLite", "≤ 2× (SHA-256 + raw prepared SELECT)");
  for (const [id, name] of [
    ["gatehouse-db-postgres", "PostgreSQL"],
    ["gatehouse-db-redis", "Redis"],
  ]) {
    const r = checks.get(id);
    if (!r) {
      notRun(`database check, ${name}`, "≤ 1.3× one raw round trip of the same driver");
      continue;
    }
    const extra = r.xLikeForLike ? ` (${fmt(r.xLikeForLike)}× Redis + the SQLite user SELECT)` : "";
    goals.push(
      goal(
        `database check, ${name}`,
        "≤ 1.3× one raw round trip of the same driver",
        `${fmt(r.xFloor)}×${extra}`,
        r.xFloor <= 1.3,
        `case:${id}`,
      ),
    );
  }

  if (stateless) {
    const iron = checks.get("iron-session");
    const auth = checks.get("authjs");
    goals.push(
      goal(
        "cookie",
        "≤ 200 bytes for the example's session (iron-session 393, Auth.js 521 in the issue)",
        `${stateless.cookieBytes} B stateless, ${sqlite?.cookieBytes ?? "—"} B database; iron-session ${iron?.cookieBytes ?? "—"} B, Auth.js ${auth?.cookieBytes ?? "—"} B (same payload)`,
        stateless.cookieBytes <= 200 && (!sqlite || sqlite.cookieBytes <= 200),
      ),
    );
  } else notRun("cookie", "≤ 200 bytes");

  const http = new Map((results.http?.targets ?? []).map((t) => [t.id, t]));
  const peerRatios = ["peer-iron-session", "peer-next-auth"]
    .map((id) => http.get(id)?.ratio.median)
    .filter((r) => r !== undefined);
  const bestPeer = peerRatios.length === 2 ? Math.max(...peerRatios) : null;
  for (const target of results.http?.targets ?? []) {
    if (target.kind === "peer") continue;
    const min = target.kind === "stateless" ? 0.9 : 0.85;
    const ratio = target.ratio.median;
    const beatsPeers = bestPeer === null ? null : ratio > bestPeer;
    goals.push(
      goal(
        "`/api/me` ÷ `/api/health` req/s",
        `${target.label}: ≥ ${min}, and above both peer apps (${peerRatios.map((r) => fmt(r)).join(", ") || "—"})`,
        fmt(ratio),
        ratio >= min && beatsPeers !== false,
        `http:${target.id}`,
      ),
    );
  }
  if (!results.http)
    notRun("`/api/me` ÷ `/api/health` req/s", "≥ 0.9 stateless, ≥ 0.85 database, above both peer apps");

  if (results.login) {
    const pct = results.login.overheadPct.median;
    goals.push(
      goal(
        "log-in",
        "overhead beyond the argon2id hash < 5%",
        `${fmt(pct, 1)}% (${fmt(results.login.overheadMs)} ms on ${fmt(results.login.hashMs.median)} ms)`,
        pct < 5,
        "login",
      ),
    );
  } else notRun("log-in", "overhead beyond the hash < 5%");
  return goals;
}
