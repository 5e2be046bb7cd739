// Run by profile.mjs: sets one workload up, then samples it with V8's CPU profiler (the one behind
// `node --cpu-prof`, started through node:inspector so that start-up and set-up stay out of the profile)
// while repeating it for a few seconds, and writes the `.cpuprofile` to <out>.
// Usage: node profile-worker.mjs <case:ID | login> <seconds> <out.cpuprofile>
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { CASES } from "./cases.mjs";
import { openPostgres, openRedis } from "./services.mjs";
import { randomSecret, scratchDir } from "./util.mjs";

const [workload, secondsArg, out] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 4);
const { dir, remove } = scratchDir("gatehouse-prof-work-");

async function repeatFor(fn) {
  for (let i = 0; i < 50; i++) await fn(); // warm-up, unprofiled
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
  const end = performance.now() + seconds * 1000;
  let count = 0;
  while (performance.now() < end) {
    await fn();
    count++;
  }
  const { profile } = await session.post("Profiler.stop");
  session.disconnect();
  writeFileSync(out, JSON.stringify(profile));
  return count;
}

try {
  if (workload.startsWith("case:")) {
    const spec = CASES.find((c) => c.id === workload.slice("case:".length));
    if (!spec) throw new Error(`no case ${workload}`);
    const postgres = spec.needs === "postgres" ? await openPostgres() : null;
    const redis = spec.needs === "redis" ? await openRedis() : null;
    const instance = await spec.setup({ dir, postgres, redis });
    await repeatFor(() => instance.run(instance.value));
    await instance.close?.();
    await postgres?.drop();
    await redis?.clear();
  } else if (workload === "login") {
    const { createGatehouse } = await import("gatehouse-auth");
    const { createSqliteStore } = await import("gatehouse-auth/stores/sqlite");
    const store = createSqliteStore({ url: `file:${join(dir, "login.db")}` });
    const limit = { max: 1_000_000_000, windowSeconds: 900 };
    const gatehouse = createGatehouse({
      store,
      secret: randomSecret(),
      url: "http://127.0.0.1:3000",
      secureCookies: true,
      rateLimits: { loginPerIp: limit, loginPerAccount: limit, loginPerAccountAndIp: limit },
    });
    const input = { email: "profile@example.com", password: "correct horse battery staple 42" };
    await gatehouse.users.create(input);
    await repeatFor(async () => {
      const signedIn = await gatehouse.logIn(input, { ip: "127.0.0.1", userAgent: "bench" });
      await gatehouse.logOut(signedIn.setCookie.split(";")[0]);
    });
    await store.close();
  } else {
    throw new Error(`unknown workload ${workload}`);
  }
} finally {
  remove();
}
