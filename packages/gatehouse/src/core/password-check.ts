import {
  type FieldProblem,
  ImpersonationForbiddenError,
  InvalidInputError,
  ReauthenticationRequiredError,
  UnauthenticatedError,
} from "../errors.js";
import { normalizePassword } from "../password/policy.js";
import type { SessionRecord } from "../session/store.js";
import type { RequestMeta } from "../session/types.js";
import type { UserRecord } from "../stores/types.js";
import type { CoreContext } from "./context.js";
import type { Auth } from "./dto.js";
import { asRecord, field } from "./input.js";
import { type Budget, loginKeys, perAddress, rateLimitKeys, type SettleTarget } from "./limiter.js";

/** What a factor change takes: the password (fresh authentication, ASVS 7.5.1). */
export interface FreshAuthInput {
  password?: string;
}

const INCORRECT_PASSWORD: FieldProblem = { code: "incorrect_password", message: "The password is incorrect." };

/** Checks passwords within the log-in limits: for log-in and for every change that needs the password. */
export interface PasswordCheck {
  /**
   * Runs a password check for `email`'s account (`account`, when it exists) within the log-in limits. A
   * browser with a device cookie for the account under its current password is counted against that device
   * only; any other against the address, then the (account, address) pair — before the account's own, so one
   * address adds at most its budget to them —, then the account over a day and over 15 minutes. Each attempt
   * holds its place before the hash and gives it back if the password was right: failures are counted,
   * successes are not. With `into`, a success's settling joins that write batch instead of being written now.
   */
  throttled(
    email: string,
    account: UserRecord | null,
    meta: RequestMeta,
    check: () => Promise<boolean>,
    into?: SettleTarget,
  ): Promise<boolean>;
  /**
   * Checks a signed-in user's password for a sensitive change, within the same limits as a log-in, so this is
   * no side door for guessing. Throws `InvalidInputError` naming `field` when it is wrong.
   */
  confirm(user: UserRecord, password: unknown, field: string, meta: RequestMeta): Promise<void>;
  /**
   * The session `auth` names as the store has it now, with its user (password hash and revocation epoch
   * included); `UnauthenticatedError` once it has ended. A change made for a session checked earlier reads it
   * again, so a revocation in between stops the change. With `owner`, the change is the account owner's alone
   * (the password, the email): `ImpersonationForbiddenError` for a session an administrator is impersonating.
   */
  current(auth: Auth, options?: { owner: boolean }): Promise<{ session: SessionRecord; user: UserRecord }>;
  /**
   * Fresh authentication for a sensitive change (ASVS 7.5.1), on the session as {@link PasswordCheck.current}
   * reads it: the password, every time, for an account that has one (`ReauthenticationRequiredError` without
   * it, `InvalidInputError` when wrong, within the log-in limits); for an account without a password (made by an
   * OAuth sign-in), a sign-in within `freshAuthSeconds`. Never for an impersonated session
   * (`ImpersonationForbiddenError`): it is young, so it would pass the second rule, and the password it would be
   * asked for is not the administrator's to know.
   */
  fresh(auth: Auth, input: unknown, meta: RequestMeta): Promise<{ session: SessionRecord; user: UserRecord }>;
}

export function createPasswordCheck(ctx: CoreContext): PasswordCheck {
  const { config, deviceCookie, hasher, limiter } = ctx;
  const { rateLimits } = config;

  async function throttled(
    email: string,
    account: UserRecord | null,
    meta: RequestMeta,
    check: () => Promise<boolean>,
    into?: SettleTarget,
  ): Promise<boolean> {
    const ip = meta.ip ?? "";
    // With the device limit turned off, a device cookie earns nothing: the check gets the ordinary limits.
    const device =
      rateLimits.loginPerDevice &&
      account &&
      (await deviceCookie.deviceFor(deviceCookie.read(meta.cookieHeader), account));
    const keys = loginKeys(email, ip);
    // An unknown address still counts for the account-and-address pair: as one address, it limits guessing
    // one account's password, and can only ever lock that one account (like its own 15-minute budget).
    const pair: Budget = { rule: rateLimits.loginPerAccountAndIp, key: keys.pair };
    const quarterHour: Budget = { rule: rateLimits.loginPerAccount, key: keys.account };
    const day: Budget = { rule: rateLimits.loginPerAccountDaily, key: keys.day };
    // What a success resets: the budgets of whoever succeeded, never the day's.
    const own: Budget[] = device
      ? [{ rule: rateLimits.loginPerDevice, key: rateLimitKeys.loginDevice(device) }]
      : [pair, quarterHour];
    // The day before the 15 minutes: when both are full, Retry-After names the longer wait.
    const budgets: Budget[] = device
      ? own
      : [{ rule: perAddress(rateLimits.loginPerIp, meta.ip), key: keys.ip }, pair, day, quarterHour];
    const reservation = await limiter.reserve(budgets);
    let valid = false;
    try {
      valid = await check();
    } finally {
      // A check that threw (a store outage) stays counted, like a failure.
      await (valid ? reservation.succeeded({ reset: own, ...(into && { into }) }) : reservation.failed());
    }
    return valid;
  }

  async function confirm(user: UserRecord, password: unknown, field: string, meta: RequestMeta): Promise<void> {
    const valid = await throttled(
      user.email,
      user,
      meta,
      async () =>
        typeof password === "string" &&
        password !== "" &&
        user.passwordHash !== null &&
        hasher.verify(user.passwordHash, normalizePassword(password)),
    );
    if (!valid) throw new InvalidInputError({ [field]: INCORRECT_PASSWORD });
  }

  async function current(
    auth: Auth,
    options?: { owner: boolean },
  ): Promise<{ session: SessionRecord; user: UserRecord }> {
    const found = await ctx.sessions.manager.current(auth.user.id, auth.session.id);
    if (!found) throw new UnauthenticatedError();
    if (options?.owner && found.session.impersonatedBy) throw new ImpersonationForbiddenError();
    return found;
  }

  return {
    throttled,
    confirm,
    current,

    async fresh(auth, input, meta) {
      const found = await current(auth, { owner: true });
      if (found.user.passwordHash === null) {
        // The session's own creation time, as the store has it: not one the caller could have made up.
        if (ctx.now() - found.session.createdAt.getTime() > config.freshAuthSeconds * 1000) {
          throw new ReauthenticationRequiredError();
        }
        return found;
      }
      const password = field(asRecord(input ?? {}), "password");
      if (password === undefined) throw new ReauthenticationRequiredError();
      await confirm(found.user, password, "password", meta);
      return found;
    },
  };
}
