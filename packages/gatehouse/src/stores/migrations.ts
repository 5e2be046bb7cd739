import { type Kysely, type Migration, type MigrationProvider, Migrator } from "kysely";
import { ConfigurationError } from "../errors.js";

/** Versioned migrations, shared by every SQL dialect. Append only: never edit a released one. */
const migrations: Record<string, Migration> = {
  "0001_users_and_sessions": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("gatehouse_users")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("email", "varchar(254)", (c) => c.notNull().unique())
        .addColumn("name", "varchar(200)")
        .addColumn("role", "varchar(64)", (c) => c.notNull())
        .addColumn("password_hash", "varchar(255)", (c) => c.notNull())
        .addColumn("session_version", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("gatehouse_sessions")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("user_id", "varchar(64)", (c) => c.notNull().references("gatehouse_users.id").onDelete("cascade"))
        .addColumn("secret_hash", "varchar(64)", (c) => c.notNull())
        .addColumn("user_version", "integer", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("last_seen_at", "bigint", (c) => c.notNull())
        .addColumn("user_agent", "varchar(512)")
        .addColumn("ip", "varchar(64)")
        .execute();
      await db.schema.createIndex("gatehouse_sessions_user_id").on("gatehouse_sessions").column("user_id").execute();
    },
  },
  "0002_rate_limits": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("gatehouse_rate_limits")
        // 191 characters keep the primary key within MySQL's index limit under utf8mb4.
        .addColumn("key", "varchar(191)", (c) => c.primaryKey())
        .addColumn("count", "integer", (c) => c.notNull())
        .addColumn("reset_at", "bigint", (c) => c.notNull())
        .execute();
    },
  },
  "0003_email_tokens_and_outbox": {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable("gatehouse_users").addColumn("email_verified_at", "bigint").execute();
      await db.schema
        .createTable("gatehouse_tokens")
        .addColumn("token_hash", "varchar(64)", (c) => c.primaryKey())
        .addColumn("purpose", "varchar(32)", (c) => c.notNull())
        .addColumn("user_id", "varchar(64)", (c) => c.notNull().references("gatehouse_users.id").onDelete("cascade"))
        .addColumn("email", "varchar(254)", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("gatehouse_tokens_user_id").on("gatehouse_tokens").column("user_id").execute();
      await db.schema
        .createTable("gatehouse_outbox")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("recipient", "varchar(254)", (c) => c.notNull())
        .addColumn("subject", "varchar(300)", (c) => c.notNull())
        .addColumn("text_body", "text", (c) => c.notNull())
        .addColumn("html_body", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("gatehouse_outbox_created_at").on("gatehouse_outbox").column("created_at").execute();
    },
  },
  "0004_revocation_epochs_and_attempts": {
    async up(db: Kysely<unknown>) {
      // Ending all of a user's sessions moves the user to a new epoch; a session record of an older epoch is
      // refused, whatever wrote it (a rotation racing the revocation copies the old record's epoch).
      await db.schema
        .alterTable("gatehouse_users")
        .addColumn("revocation_epoch", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable("gatehouse_sessions")
        .addColumn("revocation_epoch", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      // The same for email links: one asked for before the user's sessions were ended is void, even if it was
      // written after (it is mailed in the background).
      await db.schema
        .alterTable("gatehouse_tokens")
        .addColumn("revocation_epoch", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      // Attempts reserved before a password hash and not yet settled (log-in throttling).
      await db.schema
        .alterTable("gatehouse_rate_limits")
        .addColumn("pending", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      // For the sweep of expired rows.
      await db.schema
        .createIndex("gatehouse_rate_limits_reset_at")
        .on("gatehouse_rate_limits")
        .column("reset_at")
        .execute();
      await db.schema.createIndex("gatehouse_tokens_expires_at").on("gatehouse_tokens").column("expires_at").execute();
      await db.schema
        .createIndex("gatehouse_sessions_expires_at")
        .on("gatehouse_sessions")
        .column("expires_at")
        .execute();
    },
  },
  "0005_second_factors": {
    async up(db: Kysely<unknown>) {
      // Read with the user on every log-in, so a log-in without a second factor makes no query for it.
      await db.schema
        .alterTable("gatehouse_users")
        .addColumn("totp_enabled", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable("gatehouse_totp")
        .addColumn("user_id", "varchar(64)", (c) => c.primaryKey().references("gatehouse_users.id").onDelete("cascade"))
        .addColumn("secret", "varchar(255)", (c) => c.notNull())
        .addColumn("confirmed_at", "bigint")
        .addColumn("last_used_step", "bigint")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("gatehouse_recovery_codes")
        .addColumn("code_hash", "varchar(64)", (c) => c.primaryKey())
        .addColumn("user_id", "varchar(64)", (c) => c.notNull().references("gatehouse_users.id").onDelete("cascade"))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("gatehouse_recovery_codes_user_id")
        .on("gatehouse_recovery_codes")
        .column("user_id")
        .execute();
      await db.schema
        .createTable("gatehouse_passkeys")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("user_id", "varchar(64)", (c) => c.notNull().references("gatehouse_users.id").onDelete("cascade"))
        // Credential ids may be up to 1023 bytes: too long for a unique index on MySQL, so their hash is the key.
        .addColumn("credential_id", "varchar(1400)", (c) => c.notNull())
        .addColumn("credential_key", "varchar(64)", (c) => c.notNull().unique())
        .addColumn("public_key", "text", (c) => c.notNull())
        .addColumn("counter", "bigint", (c) => c.notNull())
        .addColumn("transports", "varchar(200)", (c) => c.notNull())
        .addColumn("device_type", "varchar(32)", (c) => c.notNull())
        .addColumn("backed_up", "integer", (c) => c.notNull())
        .addColumn("name", "varchar(100)", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("last_used_at", "bigint")
        .execute();
      await db.schema.createIndex("gatehouse_passkeys_user_id").on("gatehouse_passkeys").column("user_id").execute();
      await db.schema
        .createTable("gatehouse_challenges")
        .addColumn("id_hash", "varchar(64)", (c) => c.primaryKey())
        .addColumn("purpose", "varchar(32)", (c) => c.notNull())
        .addColumn("user_id", "varchar(64)", (c) => c.references("gatehouse_users.id").onDelete("cascade"))
        .addColumn("challenge", "varchar(128)", (c) => c.notNull())
        .addColumn("revocation_epoch", "integer", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("gatehouse_challenges_expires_at")
        .on("gatehouse_challenges")
        .column("expires_at")
        .execute();
    },
  },
  "0006_identities": {
    async up(db: Kysely<unknown>) {
      // Users created by an OAuth sign-in have no password: their password_hash is "" (the column stays NOT NULL,
      // which SQLite cannot drop without rebuilding the table).
      await db.schema
        .createTable("gatehouse_identities")
        // SHA-256 of (provider, subject): subjects are case-sensitive, and MySQL's collations compare without
        // case (and MariaDB's ignore trailing spaces), so the hash is the key, as for passkeys.
        .addColumn("identity_key", "varchar(64)", (c) => c.primaryKey())
        .addColumn("provider", "varchar(64)", (c) => c.notNull())
        .addColumn("subject", "varchar(255)", (c) => c.notNull())
        .addColumn("user_id", "varchar(64)", (c) => c.notNull().references("gatehouse_users.id").onDelete("cascade"))
        .addColumn("email", "varchar(254)")
        .addColumn("email_verified", "integer", (c) => c.notNull())
        .addColumn("tokens", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        // One identity per provider and user: unlinking names the provider.
        .addUniqueConstraint("gatehouse_identities_user_provider", ["user_id", "provider"])
        .execute();
    },
  },
  "0007_audit_admin_mail": {
    async up(db: Kysely<unknown>) {
      // One column per statement: SQLite's ALTER TABLE adds one at a time.
      await db.schema.alterTable("gatehouse_users").addColumn("banned_at", "bigint").execute();
      await db.schema.alterTable("gatehouse_users").addColumn("ban_reason", "varchar(500)").execute();
      // The administrator viewing the app as the session's user; null for the user's own session.
      await db.schema.alterTable("gatehouse_sessions").addColumn("impersonated_by", "varchar(64)").execute();
      // The administrator's revocation epoch then: their sessions' end ends the impersonation too.
      await db.schema.alterTable("gatehouse_sessions").addColumn("impersonator_epoch", "bigint").execute();
      await db.schema
        .createTable("gatehouse_audit")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("at", "bigint", (c) => c.notNull())
        .addColumn("type", "varchar(64)", (c) => c.notNull())
        .addColumn("outcome", "varchar(16)", (c) => c.notNull())
        // No foreign key: the log outlives the accounts it speaks of.
        .addColumn("user_id", "varchar(64)")
        .addColumn("user_email", "varchar(254)")
        .addColumn("actor_type", "varchar(16)", (c) => c.notNull())
        .addColumn("actor_id", "varchar(64)")
        .addColumn("ip", "varchar(64)")
        .addColumn("user_agent", "varchar(512)")
        .addColumn("detail", "text", (c) => c.notNull())
        .execute();
      // Pages of the whole log, of one user's events and of one type's, each in (at, id) order.
      await db.schema.createIndex("gatehouse_audit_at").on("gatehouse_audit").columns(["at", "id"]).execute();
      await db.schema.createIndex("gatehouse_audit_user_at").on("gatehouse_audit").columns(["user_id", "at"]).execute();
      await db.schema.createIndex("gatehouse_audit_type_at").on("gatehouse_audit").columns(["type", "at"]).execute();
      // The durable outbox: mail is written with the change it belongs to and delivered by a sender, with retries.
      await db.schema
        .createTable("gatehouse_mail")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("recipient", "varchar(254)", (c) => c.notNull())
        .addColumn("subject", "varchar(300)", (c) => c.notNull())
        .addColumn("sealed_body", "text", (c) => c.notNull())
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
        .addColumn("lease_until", "bigint")
        .addColumn("last_error", "varchar(500)")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("sent_at", "bigint")
        .execute();
      await db.schema
        .createIndex("gatehouse_mail_due")
        .on("gatehouse_mail")
        .columns(["status", "next_attempt_at"])
        .execute();
      // The development outbox is now the mail the development mailer "sent" (kept with its body).
      await db.schema.dropTable("gatehouse_outbox").execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

const MIGRATION_TABLE = "gatehouse_migrations";

function migrator(db: Kysely<unknown>): Migrator {
  return new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: "gatehouse_migrations_lock",
  });
}

/** Runs a whole migration pass under a backend's own lock, when Kysely's is not enough. */
export type MigrationLock = <T>(run: () => Promise<T>) => Promise<T>;

/**
 * Brings the schema up to date. Kysely's migrator takes a lock on PostgreSQL and MySQL, so concurrent
 * callers apply each step once; on SQLite, where its lock is a no-op, `lock` provides one.
 * A database migrated by a newer Gatehouse (a migration this code does not know) is refused.
 */
export async function migrateToLatest(db: Kysely<unknown>, lock: MigrationLock = (run) => run()): Promise<void> {
  let { error } = await lock(() => migrator(db).migrateToLatest());
  // Two processes migrating one SQLite file can still race, and one loses. The winner has recorded its steps
  // by then: a second pass is a no-op for it, and a real failure fails again.
  if (error) ({ error } = await lock(() => migrator(db).migrateToLatest()));
  if (!error) return;
  if (error instanceof Error && error.message.includes("corrupted migrations")) {
    throw new ConfigurationError(
      `The database schema was migrated by a newer version of Gatehouse (${error.message}). Upgrade Gatehouse.`,
    );
  }
  throw error;
}

/**
 * Refuses to run on a schema that does not match this version of Gatehouse: older (pending migrations:
 * run `gatehouse migrate`) or newer (migrations this code does not know: upgrade Gatehouse).
 */
export async function assertSchemaCurrent(db: Kysely<unknown>): Promise<void> {
  const known = Object.keys(migrations);
  const tables = await db.introspection.getTables();
  const applied = tables.some((t) => t.name === MIGRATION_TABLE)
    ? (
        await (db as Kysely<{ [MIGRATION_TABLE]: { name: string } }>)
          .selectFrom(MIGRATION_TABLE)
          .select("name")
          .execute()
      ).map((row) => row.name)
    : [];
  const unknown = applied.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new ConfigurationError(
      `The database schema is newer than this version of Gatehouse (unknown migrations: ${unknown.join(", ")}). Upgrade Gatehouse.`,
    );
  }
  const pending = known.filter((name) => !applied.includes(name));
  if (pending.length > 0) {
    throw new ConfigurationError(
      `The database schema is older than this version of Gatehouse (pending migrations: ${pending.join(", ")}). Run npx gatehouse migrate.`,
    );
  }
}
