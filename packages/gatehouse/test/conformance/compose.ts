/**
 * The stores of a deployment that splits roles (users and second factors in SQL; sessions and counters in
 * Redis) seen as one {@link Store}, so the one conformance suite runs against it too. Each method goes to the
 * store of its role, and the calls that span roles go through the core's own helpers, as `createGatehouse`
 * runs them. Listing the methods is safe here: `satisfies Store` makes a method added later a compile error
 * until it is routed.
 */
import { deleteUser, endSessions, resolveRoles } from "../../src/core/stores.js";
import type { RedisStore } from "../../src/stores/redis.js";
import type { Store } from "../../src/stores/types.js";

export function composeStores(sql: Store, redis: RedisStore): Store {
  const roles = resolveRoles({ store: sql, sessionStore: redis, rateLimitStore: redis });
  return {
    migrate: async () => {
      await sql.migrate();
      await redis.migrate();
    },
    sweepExpired: (now) => sql.sweepExpired(now),
    close: async () => {
      await sql.close();
      await redis.close();
    },
    createUser: (user) => sql.createUser(user),
    getUserById: (id) => sql.getUserById(id),
    getUserByEmail: (email) => sql.getUserByEmail(email),
    listUsers: () => sql.listUsers(),
    updateUser: (id, update, options) => sql.updateUser(id, update, options),
    bumpSessionVersion: (userId) => sql.bumpSessionVersion(userId),
    deleteUser: (id) => deleteUser(roles, id),
    endSessions: (userId, options) => endSessions(roles, userId, options),
    createToken: (token, options) => sql.createToken(token, options),
    consumeToken: (hash, purposes) => sql.consumeToken(hash, purposes),
    deleteUserTokens: (userId, purpose, options) => sql.deleteUserTokens(userId, purpose, options),
    addOutboxMessage: (message) => sql.addOutboxMessage(message),
    listOutboxMessages: (limit) => sql.listOutboxMessages(limit),
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
    deleteSession: (id) => redis.deleteSession(id),
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
    confirmTotp: (userId, sealedSecret, step, codeHashes, now) =>
      sql.confirmTotp(userId, sealedSecret, step, codeHashes, now),
    spendTotpStep: (userId, step) => sql.spendTotpStep(userId, step),
    disableTotp: (userId) => sql.disableTotp(userId),
    replaceRecoveryCodes: (userId, codeHashes, now) => sql.replaceRecoveryCodes(userId, codeHashes, now),
    consumeRecoveryCode: (userId, codeHashes) => sql.consumeRecoveryCode(userId, codeHashes),
    createPasskey: (passkey, options) => sql.createPasskey(passkey, options),
    getPasskeyByCredentialId: (credentialId) => sql.getPasskeyByCredentialId(credentialId),
    listPasskeys: (userId) => sql.listPasskeys(userId),
    recordPasskeyUse: (id, previousCounter, update) => sql.recordPasskeyUse(id, previousCounter, update),
    renamePasskey: (userId, id, name) => sql.renamePasskey(userId, id, name),
    deletePasskey: (userId, id) => sql.deletePasskey(userId, id),
    createChallenge: (challenge) => sql.createChallenge(challenge),
    getChallenge: (idHash, purpose) => sql.getChallenge(idHash, purpose),
    consumeChallenge: (idHash, purpose) => sql.consumeChallenge(idHash, purpose),
    removeFactors: (userId) => sql.removeFactors(userId),
    // So do identities: they belong with the users.
    getIdentity: (provider, subject) => sql.getIdentity(provider, subject),
    listIdentities: (userId) => sql.listIdentities(userId),
    createUserWithIdentity: (user, identity) => sql.createUserWithIdentity(user, identity),
    linkIdentity: (identity, options) => sql.linkIdentity(identity, options),
    setIdentityTokens: (provider, subject, sealedTokens) => sql.setIdentityTokens(provider, subject, sealedTokens),
    unlinkIdentity: (userId, provider) => sql.unlinkIdentity(userId, provider),
  } satisfies Store;
}
