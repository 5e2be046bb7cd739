import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findConfig } from "./config.js";
import { resolveDatabaseUrl } from "./database-url.js";

let root: string;
const roots: string[] = [];

function tree(files: Record<string, string>): string {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "gatehouse-config-")));
  roots.push(root);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

afterEach(() => {
  for (const dir of roots.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("findConfig", () => {
  it("finds the nearest gatehouse.config.json upward and resolves appDir from its folder", () => {
    tree({ "gatehouse.config.json": '{ "appDir": "apps/web" }', "apps/web/pages/.keep": "" });
    expect(findConfig(path.join(root, "apps", "web", "pages"))).toEqual({
      path: path.join(root, "gatehouse.config.json"),
      appDir: path.join(root, "apps", "web"),
    });
  });

  it("reads protectedRoutes, alone or beside the other keys, without trailing slashes", () => {
    tree({ "gatehouse.config.json": '{ "protectedRoutes": ["/dashboard/", "/admin"] }' });
    expect(findConfig(root)).toEqual({
      path: path.join(root, "gatehouse.config.json"),
      protectedRoutes: ["/dashboard", "/admin"],
    });
  });

  it("throws for a file that is not JSON, has no key, or has a key of the wrong type", () => {
    const texts = ["{", "{}", '{ "appDir": 1 }', '{ "databaseUrl": "" }', '{ "protectedRoutes": "/admin" }'];
    for (const text of [...texts, '{ "protectedRoutes": ["admin"] }', '{ "protectedRoutes": [1] }']) {
      tree({ "gatehouse.config.json": text });
      expect(() => findConfig(root), text).toThrow(/gatehouse\.config\.json/);
    }
  });
});

describe("resolveDatabaseUrl", () => {
  const base = { env: {}, envDir: "/srv/app", config: null, cwd: "/srv" };

  it("takes --database-url, then DATABASE_URL, then the config's databaseUrl, then the default", () => {
    const config = { path: "/srv/gatehouse.config.json", databaseUrl: "file:db/app.db" };
    const env = { DATABASE_URL: "postgres://db/app" };
    expect(resolveDatabaseUrl({ ...base, env, config, flag: "file:x.db" }).source).toBe("--database-url");
    expect(resolveDatabaseUrl({ ...base, env, config })).toEqual({ url: "postgres://db/app", source: "DATABASE_URL" });
    expect(resolveDatabaseUrl({ ...base, config }).url).toBe("file:/srv/db/app.db");
    expect(resolveDatabaseUrl(base)).toEqual({ url: "file:/srv/data/gatehouse.db", source: "default" });
  });

  it("resolves a relative file: path from an env file in the app's folder, where next runs", () => {
    const env = { DATABASE_URL: "file:data/app.db" };
    expect(resolveDatabaseUrl({ ...base, env, envFile: ".env.local" })).toEqual({
      url: "file:/srv/app/data/app.db",
      source: "DATABASE_URL in .env.local",
    });
  });

  it("puts the default database in the config's appDir", () => {
    const config = { path: "/srv/gatehouse.config.json", appDir: "/srv/apps/web" };
    expect(resolveDatabaseUrl({ ...base, config }).url).toBe("file:/srv/apps/web/data/gatehouse.db");
  });
});
