// Small helpers shared by the bench sections.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh scratch folder under the OS temp dir and a function that removes it. */
export function scratchDir(prefix = "gatehouse-bench-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A random secret of `bytes` bytes as base64url (32 bytes: 43 characters). */
export function randomSecret(bytes = 32) {
  return randomBytes(bytes).toString("base64url");
}

/** The value of cookie `name` in one `Set-Cookie` header, or `null`. */
export function cookieFromSetCookie(setCookie, name) {
  const [pair] = setCookie.split(";");
  const eq = pair.indexOf("=");
  return pair.slice(0, eq).trim() === name ? decodeURIComponent(pair.slice(eq + 1).trim()) : null;
}

/** `name=value` pairs from a list of `Set-Cookie` headers, as a browser would send them back. */
export function cookieHeaderFrom(setCookies) {
  return setCookies
    .map((header) => header.split(";")[0].trim())
    .filter((pair) => pair.slice(pair.indexOf("=") + 1) !== "")
    .join("; ");
}

/**
 * Flips one character in the middle of a token, keeping it in the same alphabet, so a check sees a
 * well-formed but forged value.
 */
export function tamper(value, at = Math.floor(value.length / 2)) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let i = at;
  while (i < value.length && !alphabet.includes(value[i])) i++;
  const current = value[i];
  const replacement = alphabet[(alphabet.indexOf(current) + 7) % alphabet.length];
  return value.slice(0, i) + replacement + value.slice(i + 1);
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median and spread of repeated measurements: min, max, and the half-range as a share of the median. */
export function summarize(values) {
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: m, min, max, spreadPct: m === 0 ? 0 : ((max - min) / 2 / m) * 100, runs: values.length };
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Logs to stderr so stdout stays clean for piping. */
export function log(...parts) {
  console.error(...parts);
}

/** A loud, boxed message for what this machine cannot run. */
export function warnSkip(what, why) {
  log(`\n!!! SKIPPED ${what}: ${why}\n`);
}
