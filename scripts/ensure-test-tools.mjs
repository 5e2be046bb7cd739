// The tests drive Debian's Chromium (browser tests) and check TOTP codes made by Debian's oathtool; a fresh
// machine may have neither yet.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const OATHTOOL = "/usr/bin/oathtool";

/** Debian packages to install, for each tool that is missing. */
const missing = [
  ...(existsSync(CHROMIUM) ? [] : ["chromium", "fonts-dejavu-core"]),
  ...(existsSync(OATHTOOL) ? [] : ["oathtool"]),
];
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (!isRoot) {
  console.error(
    `The tests need ${missing.join(", ")}. Install with: sudo apt-get install -y ${missing.join(" ")} ` +
      "(or set CHROMIUM_PATH to a Chromium binary).",
  );
  process.exit(1);
}

console.log(`Installing Debian's ${missing.join(", ")} for the tests…`);
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
execFileSync("apt-get", ["update"], { stdio: "inherit", env });
execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { stdio: "inherit", env });
for (const path of [CHROMIUM, OATHTOOL]) {
  if (!existsSync(path)) {
    console.error(`apt-get finished but ${path} is still missing.`);
    process.exit(1);
  }
}
