import { templates } from "../mail/templates.js";
import type { UserRecord } from "../stores/types.js";
import { runLater } from "./background.js";
import type { CoreContext } from "./context.js";

/** Security notices: a user hears of every change to how their account is signed in to. */
export interface Notices {
  /**
   * Queues an email telling the user that `change` happened (e.g. "A passkey was added"), after the response,
   * in the durable outbox; without a mailer, nothing is sent.
   */
  send(user: Pick<UserRecord, "email">, change: string): void;
  /** Like `send`, but at most once for `onceKey` in `windowSeconds` (a counter in the rate-limit store). */
  sendOnce(user: Pick<UserRecord, "email">, change: string, onceKey: string, windowSeconds: number): void;
}

export function createNotices(ctx: CoreContext): Notices {
  const { mail, limiter } = ctx;
  const context = { appName: ctx.config.email.appName };
  const enqueue = async (email: string, change: string) =>
    mail.enqueue([await mail.seal(templates.securityNotice(context, email, change))]);
  return {
    send(user, change) {
      if (!mail.enabled) return;
      runLater("queueing a security notice", () => enqueue(user.email, change));
    },

    sendOnce(user, change, onceKey, windowSeconds) {
      if (!mail.enabled) return;
      runLater("queueing a security notice", async () => {
        // A second time within the window is refused here, and the refusal is not logged: that is the point.
        await limiter.hit({ max: 1, windowSeconds }, onceKey);
        await enqueue(user.email, change);
      });
    },
  };
}
