/** At most `max` counted events per `windowSeconds`. */
export interface RateLimitRule {
  max: number;
  windowSeconds: number;
}

/** Brute-force limits; `false` turns one off. Counters live in the store (Redis when configured), so they hold across instances. */
export interface RateLimitOptions {
  /** Log-ins for one account from one IP. Default 10 per 15 minutes. A success resets it. */
  loginPerAccountAndIp?: RateLimitRule | false;
  /**
   * Log-ins for one account from any IP, against guessing from rotating addresses (NIST SP 800-63B: at most
   * 100 failures). Default 100 per 15 minutes. A success resets it.
   */
  loginPerAccount?: RateLimitRule | false;
  /** Log-in attempts from one IP, whatever the account. Default 100 per 15 minutes. */
  loginPerIp?: RateLimitRule | false;
  /** Sign-ups from one IP. Default 20 per hour. */
  signupPerIp?: RateLimitRule | false;
  /** Password-reset requests for one email address. Default 5 per hour. */
  passwordResetPerEmail?: RateLimitRule | false;
  /** Password-reset requests from one IP. Default 20 per hour. */
  passwordResetPerIp?: RateLimitRule | false;
  /** Verification emails for one user (asked for, or sent on an unverified log-in). Default 5 per hour. */
  verificationEmailPerUser?: RateLimitRule | false;
  /** Verification-code attempts for one address. Default 10 per hour. */
  verificationCodePerEmail?: RateLimitRule | false;
  /** Email-change requests by one user. Default 5 per hour. */
  emailChangePerUser?: RateLimitRule | false;
}

export type ResolvedRateLimits = { [K in keyof RateLimitOptions]-?: RateLimitRule | false };

export const DEFAULT_RATE_LIMITS: Readonly<ResolvedRateLimits> = Object.freeze({
  loginPerAccountAndIp: { max: 10, windowSeconds: 15 * 60 },
  loginPerAccount: { max: 100, windowSeconds: 15 * 60 },
  loginPerIp: { max: 100, windowSeconds: 15 * 60 },
  signupPerIp: { max: 20, windowSeconds: 60 * 60 },
  passwordResetPerEmail: { max: 5, windowSeconds: 60 * 60 },
  passwordResetPerIp: { max: 20, windowSeconds: 60 * 60 },
  verificationEmailPerUser: { max: 5, windowSeconds: 60 * 60 },
  verificationCodePerEmail: { max: 10, windowSeconds: 60 * 60 },
  emailChangePerUser: { max: 5, windowSeconds: 60 * 60 },
});
