/**
 * The README's App Router guide shows files of the fixture app that test/app-router.test.ts builds with
 * `next build` and drives over HTTP: every code block of the guide that names a file (its first line,
 * `// <path>`) must be that file of test/fixtures/app-router-app, byte for byte, so the guide a user copies
 * is the code the tests run.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..", "..", "..");
const fixture = join(root, "packages", "gatehouse", "test", "fixtures", "app-router-app");
const HEADING = "## Add it to your App Router app in five minutes";

function guideBlocks(): Array<{ path: string; text: string }> {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf(HEADING);
  expect(start, `the README has "${HEADING}"`).toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start + HEADING.length);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const blocks: Array<{ path: string; text: string }> = [];
  for (const [, text] of section.matchAll(/```tsx?\n(.*?)```/gs)) {
    const path = /^\/\/ (\S+)/.exec(text!)?.[1];
    if (path) blocks.push({ path, text: text! });
  }
  return blocks;
}

describe("the README's App Router guide", () => {
  const blocks = guideBlocks();

  it("shows the helpers, the auth API, the actions, a form, guarded pages and a guarded Route Handler", () => {
    expect(blocks.map((block) => block.path)).toEqual([
      "lib/auth.ts",
      "app/api/auth/[...gatehouse]/route.ts",
      "app/actions.ts",
      "app/login/page.tsx",
      "app/login/LogInForm.tsx",
      "app/dashboard/page.tsx",
      "app/admin/page.tsx",
      "app/api/me/route.ts",
    ]);
  });

  it.each(blocks.map((block) => [block.path, block.text]))(
    "shows %s exactly as the tested app has it",
    (path, text) => {
      const file = join(fixture, path);
      expect(existsSync(file), `${path} in the fixture app`).toBe(true);
      expect(text).toBe(readFileSync(file, "utf8"));
    },
  );
});
