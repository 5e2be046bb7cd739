import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { initApp } from "./init.js";

let dir: string;

function folder(files: Record<string, string>): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-init-"));
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  return dir;
}

const read = (file: string): string => fs.readFileSync(path.join(dir, file), "utf8");

afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("initApp: .env.local", () => {
  it("leaves a variable that .env or .env.development already sets, where .env.local would override it", () => {
    folder({ ".env": "GATEHOUSE_SECRET=from-dotenv\n", ".env.development": "export GATEHOUSE_URL = http://x:1\n" });
    const report = initApp(dir);
    expect(report.envLocal.added).toEqual([]);
    expect(report.envLocal.kept).toEqual([
      { name: "GATEHOUSE_SECRET", file: ".env" },
      { name: "GATEHOUSE_URL", file: ".env.development" },
    ]);
    expect(fs.existsSync(path.join(dir, ".env.local"))).toBe(false);
  });

  it("does not count an empty assignment as set, nor one in .env.production (next dev does not read it)", () => {
    folder({ ".env.local": 'GATEHOUSE_SECRET=""\n', ".env.production": "GATEHOUSE_URL=https://app.example.com\n" });
    expect(initApp(dir).envLocal.added).toEqual(["GATEHOUSE_SECRET", "GATEHOUSE_URL"]);
    expect(read(".env.local")).toMatch(/^GATEHOUSE_SECRET=""\n\n# Gatehouse .*\nGATEHOUSE_SECRET=[\w-]{43}\n/);
  });

  it("appends after a last line without a newline, and keeps the mode of an existing file", () => {
    folder({ ".env.local": "OTHER=1" });
    fs.chmodSync(path.join(dir, ".env.local"), 0o640);
    initApp(dir, { url: "http://localhost:4000" });
    expect(read(".env.local")).toMatch(
      /^OTHER=1\n\n# Gatehouse .*\nGATEHOUSE_SECRET=.*\nGATEHOUSE_URL=http:\/\/localhost:4000\n$/,
    );
    expect(fs.statSync(path.join(dir, ".env.local")).mode & 0o777).toBe(0o640);
  });
});

describe("initApp: .gitignore", () => {
  it.each([".env*.local", ".env*", "/.env*.local", "*.local"])("takes %s as ignoring the local env files", (line) => {
    folder({ ".gitignore": `/data\n${line}` });
    expect(initApp(dir).gitignore).toEqual({ created: false, added: [], alreadyIgnored: ["/data/", ".env*.local"] });
    expect(read(".gitignore")).toBe(`/data\n${line}`);
  });

  it("does not take .env.local alone, a comment or a negation as enough", () => {
    folder({ ".gitignore": ".env.local\n# data/\n!data\nnode_modules" });
    expect(initApp(dir).gitignore.added).toEqual(["/data/", ".env*.local"]);
    expect(read(".gitignore")).toBe(
      ".env.local\n# data/\n!data\nnode_modules\n\n# the SQLite database, file:data/gatehouse.db\n/data/\n" +
        "# local env files: .env.local holds GATEHOUSE_SECRET\n.env*.local\n",
    );
  });
});
