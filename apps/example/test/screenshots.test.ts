/**
 * The README's screenshots, taken from the running example on every run so that they cannot drift: into
 * `GATEHOUSE_SCREENSHOTS_DIR` when it is set (`npm run screenshots` sets it to docs/screenshots), else into a
 * temporary directory that is removed afterwards. One app (with the dev outbox on) and one browser for all.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "./support/app";
import { launchChromium } from "./support/browser";
import { horizontalOverflow } from "./support/pages";
import { SCREENSHOTS, type Scene, seed } from "./support/screenshots";

const repoRoot = resolve(import.meta.dirname, "..", "..", "..");

/** The width a PNG file declares in its IHDR chunk, which follows the 8-byte signature and the chunk's header. */
function pngWidth(path: string): number {
  const header = readFileSync(path).subarray(0, 24);
  expect(header.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(header.toString("latin1", 12, 16)).toBe("IHDR");
  return header.readUInt32BE(16);
}

/** The file names of docs/screenshots/ that README.md shows. */
function readmeScreenshots(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  return [...readme.matchAll(/docs\/screenshots\/([^\s)"'<>]+)/g)].map((m) => m[1]!);
}

describe("the README's screenshots", () => {
  const names = SCREENSHOTS.map((shot) => shot.name);

  it("are all in the screenshot list, which names each file once", () => {
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9-]+\.png$/);
    const shown = readmeScreenshots();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.filter((name) => !names.includes(name))).toEqual([]);
  });

  it("exist in docs/screenshots for every name the README shows", () => {
    const missing = readmeScreenshots().filter((name) => !existsSync(join(repoRoot, "docs", "screenshots", name)));
    expect(missing).toEqual([]);
  });
});

describe("taking the screenshots from the running example", () => {
  const target = process.env.GATEHOUSE_SCREENSHOTS_DIR;
  let outDir: string;
  let app: RunningApp;
  let browser: Browser;
  let scene: Scene;

  beforeAll(async () => {
    outDir = target ? resolve(target) : mkdtempSync(join(tmpdir(), "gatehouse-screenshots-"));
    mkdirSync(outDir, { recursive: true });
    // SMTP_URL unset: every email lands in the dev outbox, which two of the screenshots show.
    [app, browser] = await Promise.all([
      startApp({ env: { GATEHOUSE_DEV_OUTBOX: "1", SMTP_URL: undefined } }),
      launchChromium(),
    ]);
    scene = seed(app);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (!target && outDir) rmSync(outDir, { recursive: true, force: true });
  });

  // In list order: the dev outbox is shot last, with the emails of the states before it.
  for (const shot of SCREENSHOTS) {
    it(`writes ${shot.name} at ${shot.viewport.width} px, with no sideways scroll`, async () => {
      const context = await browser.newContext({
        viewport: shot.viewport,
        colorScheme: "light",
        reducedMotion: "reduce",
      });
      try {
        const page = await context.newPage();
        await shot.shoot(page, scene);
        await page.waitForLoadState("networkidle");
        // The state it shows, not an error page in its place.
        const heading = await page.getByRole("heading", { level: 1 }).first().textContent();
        expect(heading ?? "").not.toMatch(/^$|went wrong|not found|unavailable|error/i);
        expect(await horizontalOverflow(page), "px of horizontal scroll").toBe(0);
        const path = join(outDir, shot.name);
        rmSync(path, { force: true }); // so that the checks below read this run's file
        await page.screenshot({ path, fullPage: true, animations: "disabled", caret: "hide" });
        expect(pngWidth(path)).toBe(shot.viewport.width);
      } finally {
        await context.close();
      }
    });
  }
});
