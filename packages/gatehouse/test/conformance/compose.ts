/**
 * The stores of a deployment that splits roles (users and second factors in SQL; sessions and counters in
 * Redis) seen as one {@link Store}, so the one conformance suite runs against it too. Each method goes to the
 * store of its role, and the calls that span roles go through the core's own helpers, as `createGatehouse`
 * runs them. Listing the methods is safe here: `satisfies Store` makes a method added later a compile error
 * until it is routed.
 */
import { deleteUser, endSessions, resolveRoles } from "../../src/core/stores.js";
import type { RedisStore } from "../../src/stores/redis.js";
import type { Effects, Store } from "../../src/stores/types.js";

export function composeStores(sql: Store, redis: RedisStore): Store {
  const roles = resolveRoles({ store: sql, sessionStore: redis, rateLimitStore: redis });
  /** Effects of a write to Redis, which has no transaction with the SQL store: written after it, on their own. */
  async function recordApart(effects: Effects | undefined): Promise<void> {
    if (effects?.events?.length) await sql.recordEvents(effects.events);
    if (effects?.mail?.length) await sql.enqueueMail(effects.mail);
  }
  return {
    migrate: async () => {
      await sql.migrate();
      await redis.migrate();
    },
    sweepExpired: (now, options) => sql.sweepExpired(now, options),
    close: async () => {
      await sql.close();
      await redis.close();
    },
    createUser: (user, options) => sql.createUser(user, options),
    getUserById: (id) => sql.getUserById(id),
    getUserByEmail: (email) => sql.getUserByEmail(email),
    listUsers: () => sql.listUsers(),
    searchUsers: (query) => sql.searchUsers(query),
    updateUser: (id, update, options) => sql.updateUser(id, update, options),
    bumpSessionVersion: (userId, options) => sql.bumpSessionVersion(userId, options),
    deleteUser: (id, options) => deleteUser(roles, id, options),
    endSessions: (userId, options) => endSessions(roles, userId, options),
    createToken: (token, options) => sql.createToken(token, options),
    consumeToken: (hash, purposes) => sql.consumeToken(hash, purposes),
    deleteUserTokens: (userId, purpose, options) => sql.deleteUserTokens(userId, purpose, options),
    // The audit log and the outbox live with the users: events and mail commit with the SQL changes.
    recordEvents: (events) => sql.recordEvents(events),
    listEvents: (query) => sql.listEvents(query),
    deleteEventsBefore: (before) => sql.deleteEventsBefore(before),
    enqueueMail: (mail) => sql.enqueueMail(mail),
    claimMail: (now, limit, leaseMs) => sql.claimMail(now, limit, leaseMs),
    settleMail: (id, attempts, outcome) => sql.settleMail(id, attempts, outcome),
    listMail: (query) => sql.listMail(query),
    countMail: () => sql.countMail(),
    retryMail: (id, now) => sql.retryMail(id, now),
    createSession: (session, options) => redis.createSession(session, options),
    // Apart, the writes go to Redis one after another: the core gathers them only when one store keeps both.
    async writeBatch() {
      let gathered: Array<() => Promise<unknown>> = [];
      return {
        settleAttempts: (attempts, failed, options) => {
          gathered.push(() => redis.settleAttempts(attempts, failed, options));
        },
        createSession: (session, options) => {
          gathered.push(() => redis.createSession(session, options));
        },
        record: (effects) => {
          gathered.push(() => recordApart(effects));
        },
        async commit() {
          const writes = gathered;
          gathered = [];
          for (const write of writes) await write();
        },
      };
    },
    getSession: (id) => redis.getSession(id),
    // As the session layer reads it when the session store keeps no users: the session, then its user.
    async getSessionAndUser(id) {
      const session = await redis.getSession(id);
      const user = session && (await sql.getUserById(session.userId));
      return session && user ? { session, user } : null;
    },
    listUserSessions: (userId) => redis.listUserSessions(userId),
    touchSession: (id, update) => redis.touchSession(id, update),
    async deleteSession(id, options) {
      const deleted = await redis.deleteSession(id);
      if (deleted) await recordApart(options?.effects);
      return deleted;
    },
    deleteUserSessions: (userId, options) => redis.deleteUserSessions(userId, options),
    hitRateLimit: (key, windowMs, now) => redis.hitRateLimit(key, windowMs, now),
    peekRateLimit: (key, now) => redis.peekRateLimit(key, now),
    resetRateLimit: (key) => redis.resetRateLimit(key),
    resetRateLimitFamily: (prefix) => redis.resetRateLimitFamily(prefix),
    reserveAttempts: (requests, now) => redis.reserveAttempts(requests, now),
    settleAttempts: (attempts, failed, options) => redis.settleAttempts(attempts, failed, options),
    // Second factors, passkeys and challenges stay in the SQL store: Redis takes only sessions and counters.
    getFactorSummary: (userId) => sql.getFactorSummary(userId),
    getTotp: (userId) => sql.getTotp(userId),
    saveTotpSetup: (userId, sealedSecret, createdAt) => sql.saveTotpSetup(userId, sealedSecret, createdAt),
    confirmTotp: (userId, sealedSecret, step, codeHashes, now, options) =>
      sql.confirmTotp(userId, sealedSecret, step, codeHashes, now, options),
    spendTotpStep: (userId, step) => sql.spendTotpStep(userId, step),
    disableTotp: (userId, options) => sql.disableTotp(userId, options),
    replaceRecoveryCodes: (userId, codeHashes, now, options) =>
      sql.replaceRecoveryCodes(userId, codeHashes, now, options),
    consumeRecoveryCode: (userId, codeHashes, options) => sql.consumeRecoveryCode(userId, codeHashes, options),
    createPasskey: (passkey, options) => sql.createPasskey(passkey, options),
    getPasskeyByCredentialId: (credentialId) => sql.getPasskeyByCredentialId(credentialId),
    listPasskeys: (userId) => sql.listPasskeys(userId),
    recordPasskeyUse: (id, previousCounter, update) => sql.recordPasskeyUse(id, previousCounter, update),
    renamePasskey: (userId, id, name) => sql.renamePasskey(userId, id, name),
    deletePasskey: (userId, id, options) => sql.deletePasskey(userId, id, options),
    createChallenge: (challenge) => sql.createChallenge(challenge),
    getChallenge: (idHash, purpose) => sql.getChallenge(idHash, purpose),
    consumeChallenge: (idHash, purpose) => sql.consumeChallenge(idHash, purpose),
    removeFactors: (userId, options) => sql.removeFactors(userId, options),
    // So do identities: they belong with the users.
    getIdentity: (provider, subject) => sql.getIdentity(provider, subject),
    listIdentities: (userId) => sql.listIdentities(userId),
    createUserWithIdentity: (user, identity, options) => sql.createUserWithIdentity(user, identity, options),
    linkIdentity: (identity, options) => sql.linkIdentity(identity, options),
    setIdentityTokens: (provider, subject, sealedTokens) => sql.setIdentityTokens(provider, subject, sealedTokens),
    unlinkIdentity: (userId, provider, options) => sql.unlinkIdentity(userId, provider, options),
  } satisfies Store;
}
