#!/usr/bin/env node
// Committed entry point, so npm can link the bin before the TypeScript build has run.
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("gatehouse: the CLI is not built yet. Run `npm run build` in the repository first.\n");
  process.exit(1);
}
await import(cli.href);
