import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigurationError } from "../errors.js";
import type { Mailer, MailMessage } from "../mail/mailer.js";
import { createOutboxMailer } from "../mail/outbox.js";
import { createSqliteStore } from "../stores/sqlite.js";
import type { MailRecord, Store } from "../stores/types.js";
import { createMailQueue, type MailDeliveryOptions, type MailQueue } from "./mail-queue.js";

const SECRET = "mail-queue-test-secret-0123456789abcdef";

/** A mailer that keeps what it was handed, or refuses everything while `down`. */
function recordingMailer(): Mailer & { sent: MailMessage[]; down: boolean } {
  const mailer = {
    sent: [] as MailMessage[],
    down: false,
    async send(message: MailMessage) {
      if (mailer.down) throw new Error("421 the mail server is down");
      mailer.sent.push(message);
    },
  };
  return mailer;
}

describe("the durable outbox and its sender", () => {
  let store: Store;
  const queues: MailQueue[] = [];

  beforeEach(async () => {
    store = createSqliteStore({ url: ":memory:" });
    await store.migrate();
  });
  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.api.close();
    await store.close();
  });

  function queue(
    mailer: Mailer | null,
    options: { now?: () => number; secret?: string; delivery?: MailDeliveryOptions } = {},
  ): MailQueue {
    const made = createMailQueue({
      store,
      mainStore: store,
      secrets: [options.secret ?? SECRET],
      mailer,
      now: options.now ?? Date.now,
      options: { mailDelivery: { pollMs: 5, ...options.delivery } },
    });
    queues.push(made);
    return made;
  }

  const message = (to: string, html = "<p>Hello</p>"): MailMessage => ({
    to,
    subject: "Hello",
    text: "Hello, Zoë 👋",
    html,
  });
  const rows = (): Promise<MailRecord[]> => store.listMail({ limit: 100 });

  it("delivers a body of any size whole: sealed in pieces (a sealed value is at most 4096 characters)", async () => {
    const mailer = recordingMailer();
    const outbox = queue(mailer);
    const big = message("big@example.com", `<p>${"ünïcødé ".repeat(3000)}</p>`);
    const queued = await outbox.seal(big);
    expect(queued.sealedBody.split(" ").length).toBeGreaterThan(5);
    expect(queued.sealedBody).not.toContain("ünïcødé");
    await outbox.enqueue([queued]);
    await vi.waitFor(() => expect(mailer.sent).toEqual([big]));
    const [row] = await rows();
    expect(row).toMatchObject({ status: "sent", attempts: 1, sealedBody: "", lastError: null });
  });

  it("a body moved to another row, or sealed with another secret, does not open: failed at once, never sent", async () => {
    const mailer = recordingMailer();
    const outbox = queue(mailer);
    await outbox.api.close();
    const original = await outbox.seal(message("victim@example.com"));
    const moved = { ...(await outbox.seal(message("attacker@example.com"))), sealedBody: original.sealedBody };
    const foreign = await queue(null, { secret: "another-secret-0123456789abcdef-0123" }).seal(
      message("x@example.com"),
    );
    await store.enqueueMail([moved, foreign]);

    queue(mailer);
    await vi.waitFor(async () => expect((await rows()).map((row) => row.status)).toEqual(["failed", "failed"]));
    expect(mailer.sent).toEqual([]);
    for (const row of await rows()) expect(row.lastError).toMatch(/does not open/);
  });

  it("retries with exponential backoff and jitter, then marks the message failed after maxAttempts", async () => {
    let clock = 1_000_000;
    const mailer = recordingMailer();
    mailer.down = true;
    const outbox = queue(mailer, {
      now: () => clock,
      delivery: { maxAttempts: 5, retryDelayMs: 1000, maxRetryDelayMs: 4000 },
    });
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    await outbox.enqueue([await outbox.seal(message("later@example.com"))]);

    for (const [attempt, full] of [
      [1, 1000],
      [2, 2000],
      [3, 4000],
      [4, 4000],
    ] as const) {
      const [row] = await vi.waitFor(async () => {
        const found = await rows();
        expect(found[0]?.attempts).toBe(attempt);
        expect(found[0]?.lastError).toMatch(/421/);
        return found;
      });
      const wait = (row?.nextAttemptAt.getTime() ?? 0) - clock;
      expect(wait, `after attempt ${attempt}`).toBeGreaterThanOrEqual(full / 2);
      expect(wait, `after attempt ${attempt}`).toBeLessThanOrEqual(full);
      expect(row?.status).toBe("pending");
      clock += wait - 1;
      // Not due a millisecond early.
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect((await rows())[0]?.attempts).toBe(attempt);
      clock += 1;
    }
    await vi.waitFor(async () => expect((await rows())[0]).toMatchObject({ status: "failed", attempts: 5 }));
    expect(mailer.sent).toEqual([]);
    vi.restoreAllMocks();
  });

  it("runs a job's handler once it is claimed, and sends what it writes; a job of no known kind fails in the end", async () => {
    const mailer = recordingMailer();
    const outbox = queue(mailer, { delivery: { maxAttempts: 2, retryDelayMs: 1 } });
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const seen: unknown[] = [];
    outbox.handle("greet", async (job) => {
      seen.push(job.data);
      await outbox.enqueue([await outbox.seal(message(job.to), job.createdAt)]);
    });
    await outbox.enqueue([
      await outbox.job("greet", "ada@example.com", { n: 1 }),
      await outbox.job("unknown", "bob@example.com", {}),
    ]);
    await vi.waitFor(() => expect(mailer.sent.map((m) => m.to)).toEqual(["ada@example.com"]));
    expect(seen).toEqual([{ n: 1 }]);
    await vi.waitFor(async () => {
      const byTo = Object.fromEntries((await rows()).map((row) => [`${row.to} ${row.subject}`, row]));
      expect(byTo["bob@example.com [job] unknown"]).toMatchObject({ status: "failed", attempts: 2 });
      expect(byTo["bob@example.com [job] unknown"]?.lastError).toMatch(/no handler/);
      // A job done is settled sent, with its sealed data erased.
      expect(byTo["ada@example.com [job] greet"]).toMatchObject({ status: "sent", sealedBody: "" });
    });
    vi.restoreAllMocks();
  });

  it("close() stops the sender: mail written afterwards waits, pending, for the next process", async () => {
    const mailer = recordingMailer();
    const outbox = queue(mailer);
    await outbox.api.close();
    await outbox.enqueue([await outbox.seal(message("waits@example.com"))]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(mailer.sent).toEqual([]);
    expect((await rows())[0]).toMatchObject({ status: "pending", attempts: 0 });
    queue(mailer);
    await vi.waitFor(() => expect(mailer.sent).toHaveLength(1));
  });

  it("the development outbox mailer keeps bodies, and outboxMessages opens them; jobs are not listed", async () => {
    const outbox = queue(createOutboxMailer(store));
    outbox.handle("noop", async () => undefined);
    const kept = message("dev@example.com");
    await outbox.enqueue([await outbox.seal(kept), await outbox.job("noop", "dev@example.com", {})]);
    await vi.waitFor(async () => expect((await rows()).map((row) => row.status)).toEqual(["sent", "sent"]));
    const messages = await outbox.api.outboxMessages(10);
    expect(messages).toEqual([{ id: expect.any(String), createdAt: expect.any(Date), ...kept }]);
  });

  it("refuses an outbox mailer of another store, and delivery options that are not positive whole numbers", () => {
    const other = createSqliteStore({ url: ":memory:" });
    expect(() => queue(createOutboxMailer(other))).toThrow(ConfigurationError);
    for (const delivery of [
      { maxAttempts: 0 },
      { leaseMs: 1.5 },
      { pollMs: -1 },
      { retryDelayMs: 1000, maxRetryDelayMs: 999 },
    ]) {
      expect(() => queue(null, { delivery }), JSON.stringify(delivery)).toThrow(ConfigurationError);
    }
    return other.close();
  });

  it("lists messages for admins without their bodies, counts them, and refuses a bad status or limit", async () => {
    const outbox = queue(null);
    await outbox.enqueue([await outbox.seal(message("a@example.com")), await outbox.seal(message("b@example.com"))]);
    const { messages, counts } = await outbox.api.listMail({ status: "pending" });
    expect(counts).toEqual({ pending: 2, sent: 0, failed: 0 });
    expect(messages.map((m) => m.to).sort()).toEqual(["a@example.com", "b@example.com"]);
    expect(Object.keys(messages[0] ?? {})).not.toContain("sealedBody");
    await expect(outbox.api.listMail({ status: "lost" as "sent" })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(outbox.api.listMail({ limit: 0 })).rejects.toMatchObject({ code: "invalid_input" });
    await expect(outbox.api.outboxMessages(1.5)).rejects.toMatchObject({ code: "invalid_input" });
    expect(await outbox.api.retryMail("no-such-message")).toBe(false);
  });
});
