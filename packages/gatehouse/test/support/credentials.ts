/**
 * The secret and password settings every Gatehouse under test is made with. Their values do not matter to
 * any check; keeping one copy means a rule change (a longer minimum secret, say) is fixed in one place.
 */

/** Long enough for the minimum secret length. */
export const TEST_SECRET = "integration-test-secret-0123456789abcdef";

/** The password of every test account; long enough for the default password policy. */
export const PASSWORD = "correct horse battery";

/**
 * argon2id at its cheapest, so the many sign-ups and log-ins of the suites stay fast. Tests about the
 * hashing parameters themselves (password-rehash.test.ts) leave this out and get the OWASP defaults.
 */
export const CHEAP_ARGON2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
