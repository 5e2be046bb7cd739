/** At most `max` counted events per `windowSeconds`. */
export interface RateLimitRule {
  max: number;
  windowSeconds: number;
}

/** Brute-force limits; `false` turns one off. Counters live in the store (Redis when configured), so they hold across instances. */
export interface RateLimitOptions {
  /**
   * Failed password checks (log-in, or the current password of a sensitive change) for one account from
   * one IP (an IPv6 address counts as its /64). Counted first, so one address adds at most this many
   * failures to the account's own limits. Default 10 per 15 minutes. A success resets it.
   */
  loginPerAccountAndIp?: RateLimitRule | false;
  /**
   * Failed password checks for one account from any IP, against guessing from rotating addresses (NIST
   * SP 800-63B: at most 100 failures). Default 100 per 15 minutes. A success resets it.
   */
  loginPerAccount?: RateLimitRule | false;
  /**
   * Failed password checks for one account in a longer window, so that the short one ending does not allow
   * unlimited guesses a day. Default 1,000 per 24 hours. A success does not reset it.
   */
  loginPerAccountDaily?: RateLimitRule | false;
  /**
   * Failed password checks from a device that signed in to the account before (it presents the device
   * cookie a successful log-in leaves). Such a check counts only here, so failures from elsewhere do not
   * lock the device out. Default 10 per 15 minutes. A success resets it.
   */
  loginPerDevice?: RateLimitRule | false;
  /** Failed password checks from one IP (an IPv6 address counts as its /64), whatever the account. Default 100 per 15 minutes. */
  loginPerIp?: RateLimitRule | false;
  /** Sign-ups from one IP (an IPv6 address counts as its /64). Default 20 per hour. */
  signupPerIp?: RateLimitRule | false;
  /** Password-reset requests for one email address. Default 5 per hour. */
  passwordResetPerEmail?: RateLimitRule | false;
  /** Password-reset requests from one IP (an IPv6 address counts as its /64). Default 20 per hour. */
  passwordResetPerIp?: RateLimitRule | false;
  /** Verification emails for one user (asked for, or sent on an unverified log-in). Default 5 per hour. */
  verificationEmailPerUser?: RateLimitRule | false;
  /** Verification-code attempts for one address. Default 10 per hour. */
  verificationCodePerEmail?: RateLimitRule | false;
  /** Verification-code attempts from one IP (an IPv6 address counts as its /64), whatever the address. Default 100 per hour. */
  verificationCodePerIp?: RateLimitRule | false;
  /** Email-change requests by one user. Default 5 per hour. */
  emailChangePerUser?: RateLimitRule | false;
  /**
   * Wrong second steps (codes, recovery codes, passkeys) for one pending log-in. Default 5 per 5 minutes (the
   * pending log-in's life); past it even the right code is refused, and the user signs in again.
   */
  secondFactorPerLogin?: RateLimitRule | false;
  /**
   * Wrong second steps for one account, whatever the pending log-in — also wrong first codes of an app being
   * set up: a new password log-in does not start this over. Default 10 per 15 minutes; a right step clears it.
   */
  secondFactorPerAccount?: RateLimitRule | false;
  /**
   * Wrong second steps for one account in a day, so that the 15 minutes starting over does not allow about a
   * thousand guesses a day (NIST SP 800-63B: at most 100 failures in a row). Default 50 per 24 hours; a right
   * second step clears it.
   */
  secondFactorPerAccountDaily?: RateLimitRule | false;
  /** Passkey sign-in challenges asked for from one IP (an IPv6 address counts as its /64). Default 100 per 15 minutes. */
  passkeyOptionsPerIp?: RateLimitRule | false;
  /**
   * OAuth and OpenID sign-ins and links started from one IP (an IPv6 address counts as its /64): each stores a
   * short-lived flow. Default 100 per 15 minutes.
   */
  oauthPerIp?: RateLimitRule | false;
  /**
   * "Sign out other sessions" by one user: each moves the user's revocation epoch and writes a `session.revoke`
   * event, even with no other session left, so a signed-in client must not repeat it without end. Default 10
   * per 15 minutes.
   */
  revokeOthersPerUser?: RateLimitRule | false;
}

export type ResolvedRateLimits = { [K in keyof RateLimitOptions]-?: RateLimitRule | false };

export const DEFAULT_RATE_LIMITS: Readonly<ResolvedRateLimits> = Object.freeze({
  loginPerAccountAndIp: { max: 10, windowSeconds: 15 * 60 },
  loginPerAccount: { max: 100, windowSeconds: 15 * 60 },
  loginPerAccountDaily: { max: 1000, windowSeconds: 24 * 60 * 60 },
  loginPerDevice: { max: 10, windowSeconds: 15 * 60 },
  loginPerIp: { max: 100, windowSeconds: 15 * 60 },
  signupPerIp: { max: 20, windowSeconds: 60 * 60 },
  passwordResetPerEmail: { max: 5, windowSeconds: 60 * 60 },
  passwordResetPerIp: { max: 20, windowSeconds: 60 * 60 },
  verificationEmailPerUser: { max: 5, windowSeconds: 60 * 60 },
  verificationCodePerEmail: { max: 10, windowSeconds: 60 * 60 },
  verificationCodePerIp: { max: 100, windowSeconds: 60 * 60 },
  emailChangePerUser: { max: 5, windowSeconds: 60 * 60 },
  secondFactorPerLogin: { max: 5, windowSeconds: 5 * 60 },
  secondFactorPerAccount: { max: 10, windowSeconds: 15 * 60 },
  secondFactorPerAccountDaily: { max: 50, windowSeconds: 24 * 60 * 60 },
  passkeyOptionsPerIp: { max: 100, windowSeconds: 15 * 60 },
  oauthPerIp: { max: 100, windowSeconds: 15 * 60 },
  revokeOthersPerUser: { max: 10, windowSeconds: 15 * 60 },
});
