import type {
  ColumnDefinitionBuilder,
  CreateIndexBuilder,
  Kysely,
  Migration,
  MigrationProvider,
  Migrator,
} from "kysely";
import * as kysely from "kysely";
import type { StoreDialect } from "./dialects.js";
import { settleNotify } from "./pg-listen.js";
import type { TableNames } from "./schema.js";

/**
 * The versioned migrations, oldest first. Never edit one that has shipped: add the next.
 * Column types differ by database only where the databases differ (identity columns, booleans,
 * MySQL's size-limited `text`): `dialect.schema` says how.
 */
export function migrations(dialect: StoreDialect, t: TableNames): Record<string, Migration> {
  const { schema } = dialect;
  const text = schema.text;
  const id = (c: ColumnDefinitionBuilder) =>
    schema.autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey();
  const dropIndex = (db: Kysely<any>, name: string, table: string) => {
    const drop = db.schema.dropIndex(name);
    return schema.dropIndexOnTable ? drop.on(table) : drop;
  };
  /** Where no lock serialises runs, an index is created only if another run has not yet. */
  const createIndex = <C extends string>(builder: CreateIndexBuilder<C>) =>
    schema.migrationLock ? builder : builder.ifNotExists();

  return {
    "0001_create_visitors": {
      async up(db: Kysely<any>) {
        await schema
          .tableOptions(db.schema.createTable(t.visitors))
          .addColumn("id", schema.identity(false), id)
          // Room for a token, or for its SHA-256 hex digest under `tokenStorage: "hash"`.
          .addColumn("uuid", "varchar(64)", (c) => c.notNull())
          .addColumn("first_name", "varchar(150)", (c) => c.notNull().defaultTo(""))
          .addColumn("last_name", "varchar(150)", (c) => c.notNull().defaultTo(""))
          .addColumn("email", "varchar(254)", (c) => c.notNull())
          .addColumn("scope", "varchar(100)", (c) => c.notNull())
          .addColumn("context", text)
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("last_updated_at", "bigint", (c) => c.notNull())
          .addColumn("expires_at", "bigint")
          .addColumn("is_active", schema.boolean, (c) => c.notNull())
          .addColumn("session_expiry", "integer")
          .addColumn("max_uses", "integer")
          .addColumn("uses", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createIndex(`${t.visitors}_uuid_uq`)
          .on(t.visitors)
          .column("uuid")
          .unique()
          .execute();
        await db.schema
          .createIndex(`${t.visitors}_email_ix`)
          .on(t.visitors)
          .column("email")
          .execute();
        await db.schema
          .createIndex(`${t.visitors}_scope_ix`)
          .on(t.visitors)
          .columns(["scope", "created_at"])
          .execute();
        await db.schema
          .createIndex(`${t.visitors}_created_ix`)
          .on(t.visitors)
          .column("created_at")
          .execute();
        await db.schema
          .createIndex(`${t.visitors}_expires_ix`)
          .on(t.visitors)
          .column("expires_at")
          .execute();

        await schema
          .tableOptions(db.schema.createTable(t.logs))
          .addColumn("id", schema.identity(true), id)
          .addColumn("visitor_id", "integer", (c) =>
            c.notNull().references(`${t.visitors}.id`).onDelete("cascade"),
          )
          .addColumn("session_key", "varchar(255)")
          .addColumn("http_method", "varchar(16)", (c) => c.notNull())
          .addColumn("request_uri", text, (c) => c.notNull())
          .addColumn("query_string", text, (c) => c.notNull())
          .addColumn("http_user_agent", text)
          .addColumn("http_referer", text)
          .addColumn("remote_addr", "varchar(64)")
          .addColumn("status_code", "integer")
          .addColumn("timestamp", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex(`${t.logs}_visitor_time_ix`)
          .on(t.logs)
          .columns(["visitor_id", "timestamp"])
          .execute();
        await db.schema.createIndex(`${t.logs}_time_ix`).on(t.logs).column("timestamp").execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropTable(t.logs).execute();
        await db.schema.dropTable(t.visitors).execute();
      },
    },
    // The sharing signals of each visit, computed when it is logged (see core/sharing.ts). Logs
    // written before this migration keep NULLs: the analytics do not count them as a network or
    // a browser family.
    "0002_visit_log_signals": {
      async up(db: Kysely<any>) {
        // Safe to repeat on SQLite, where concurrent runs are not locked out (see below).
        const existing = await schema.existingColumns(db, t.logs);
        // One column per statement: SQLite adds one at a time.
        for (const [column, type] of [
          ["client_network", "varchar(64)"],
          ["browser_family", "varchar(32)"],
        ] as const) {
          if (existing.has(column)) continue;
          await db.schema.alterTable(t.logs).addColumn(column, type).execute();
        }
        // Serves the sharing counts of one pass, and the report pass by pass, from the index
        // alone (no table reads); its (visitor_id, timestamp) prefix serves `since` per pass.
        const index = db.schema
          .createIndex(`${t.logs}_visitor_signals_ix`)
          .on(t.logs)
          .columns(["visitor_id", "timestamp", "browser_family", "client_network", "session_key"]);
        await createIndex(index).execute();
      },
      async down(db: Kysely<any>) {
        await dropIndex(db, `${t.logs}_visitor_signals_ix`, t.logs).execute();
        await db.schema.alterTable(t.logs).dropColumn("browser_family").execute();
        await db.schema.alterTable(t.logs).dropColumn("client_network").execute();
      },
    },
    "0003_self_service_form_key": {
      // The token a self-service pass had while its form was pending: the pass is activated under
      // a new token (sent by email), and `get()` still finds it by the old one.
      async up(db: Kysely<any>) {
        const existing = await schema.existingColumns(db, t.visitors);
        if (!existing.has("form_uuid")) {
          await db.schema.alterTable(t.visitors).addColumn("form_uuid", "varchar(64)").execute();
        }
        const index = db.schema
          .createIndex(`${t.visitors}_form_uuid_uq`)
          .on(t.visitors)
          .column("form_uuid")
          .unique();
        await createIndex(index).execute();
      },
      async down(db: Kysely<any>) {
        await dropIndex(db, `${t.visitors}_form_uuid_uq`, t.visitors).execute();
        await db.schema.alterTable(t.visitors).dropColumn("form_uuid").execute();
      },
    },
    "0004_drop_redundant_log_index": {
      // (visitor_id, timestamp) is the prefix of the sharing signals index (0002), which serves
      // every query this one did, the foreign key included: one index less to update per visit.
      async up(db: Kysely<any>) {
        const drop = dropIndex(db, `${t.logs}_visitor_time_ix`, t.logs);
        // MySQL has no `drop index if exists`.
        await (schema.dropIndexOnTable ? drop : drop.ifExists()).execute();
      },
      async down(db: Kysely<any>) {
        await db.schema
          .createIndex(`${t.logs}_visitor_time_ix`)
          .on(t.logs)
          .columns(["visitor_id", "timestamp"])
          .execute();
      },
    },
    "0005_notify_pass_changes": {
      // Installed the notify trigger on every PostgreSQL database. Since then `migrateToLatest`
      // installs it only with `passCache: "listen"` and drops it otherwise, whatever this did;
      // kept, empty, so that databases that ran it still match this list.
      async up() {},
      async down() {},
    },
    "0006_visit_log_idempotency_key": {
      // A random id per visit, given when it is recorded, so that a batch of logs written again
      // (its commit went through, its reply was lost) skips the visits already stored. Logs
      // written before keep NULL, which a unique index lets any number of rows hold.
      async up(db: Kysely<any>) {
        const existing = await schema.existingColumns(db, t.logs);
        if (!existing.has("idempotency_key")) {
          await db.schema.alterTable(t.logs).addColumn("idempotency_key", "varchar(36)").execute();
        }
        const index = db.schema
          .createIndex(`${t.logs}_idempotency_key_uq`)
          .on(t.logs)
          .column("idempotency_key")
          .unique();
        await createIndex(index).execute();
      },
      async down(db: Kysely<any>) {
        await dropIndex(db, `${t.logs}_idempotency_key_uq`, t.logs).execute();
        await db.schema.alterTable(t.logs).dropColumn("idempotency_key").execute();
      },
    },
    "0007_pass_promotion": {
      // A pass promoted to an account (`passes.promote`): the app's user id and when. Passes
      // stored before keep NULL (not promoted); the index serves `passes.promotedTo(userId)`.
      async up(db: Kysely<any>) {
        const existing = await schema.existingColumns(db, t.visitors);
        for (const [column, type] of [
          ["promoted_to", "varchar(255)"],
          ["promoted_at", "bigint"],
        ] as const) {
          if (existing.has(column)) continue;
          await db.schema.alterTable(t.visitors).addColumn(column, type).execute();
        }
        const index = db.schema
          .createIndex(`${t.visitors}_promoted_to_ix`)
          .on(t.visitors)
          .column("promoted_to");
        await createIndex(index).execute();
      },
      async down(db: Kysely<any>) {
        await dropIndex(db, `${t.visitors}_promoted_to_ix`, t.visitors).execute();
        await db.schema.alterTable(t.visitors).dropColumn("promoted_at").execute();
        await db.schema.alterTable(t.visitors).dropColumn("promoted_to").execute();
      },
    },
    "0008_fresh_links_opt_in": {
      // A pass created with `freshLinks: true` offers a fresh link once its own has expired or
      // been used up, whatever its scope. Passes stored before keep false: their scope decides.
      async up(db: Kysely<any>) {
        const existing = await schema.existingColumns(db, t.visitors);
        if (!existing.has("fresh_links")) {
          await db.schema
            .alterTable(t.visitors)
            .addColumn("fresh_links", schema.boolean, (c) =>
              c.notNull().defaultTo(dialect.bool(false)),
            )
            .execute();
        }
      },
      async down(db: Kysely<any>) {
        await db.schema.alterTable(t.visitors).dropColumn("fresh_links").execute();
      },
    },
  };
}

/**
 * Kysely's `Migrator`. Kysely 0.28 exports it from "kysely"; 0.29 moved it to "kysely/migration",
 * which 0.28 does not have. Both lines are supported, so an app's own Kysely is shared.
 */
async function migratorClass(): Promise<typeof Migrator> {
  if ("Migrator" in kysely) return kysely.Migrator;
  const entry = "kysely/migration";
  // Left to Node at run time: a bundler (Next.js's) must not fail on a path 0.28 does not have.
  return (
    (await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ entry)) as {
      Migrator: typeof Migrator;
    }
  ).Migrator;
}

/**
 * Brings the tables up to date, and on PostgreSQL the notify trigger in line with `listen`
 * (`settleNotify`). Idempotent. On PostgreSQL and MySQL, Kysely's migration lock
 * serialises concurrent runs. SQLite has no such lock: a run that lost the race (it found a
 * migration pending, then the tables already there, or its row already written) runs again, a
 * few times if need be, until it finds nothing left to do.
 */
export async function migrateToLatest(
  db: Kysely<any>,
  dialect: StoreDialect,
  t: TableNames,
  options: { listen?: boolean } = {},
): Promise<number> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect, t) };
  const migrator = new (await migratorClass())({
    db,
    provider,
    migrationTableName: t.migrations,
    migrationLockTableName: t.migrationLock,
  });
  // Migrating again is safe (applied migrations are skipped), so a run that lost a race tries
  // again: on SQLite, another process's run that is still writing (SQLite has no migration lock);
  // on PostgreSQL, Kysely's introspection of every table in the database, which fails when any
  // table (even another app's) is dropped while it reads the catalog.
  const { attempts, transactionalDdl } = dialect.schema;
  // A failed run is rolled back where DDL is transactional (SQLite, PostgreSQL), so only MySQL
  // keeps, and counts, what it applied before failing.
  const kept = (failed: boolean, results: readonly { status: string }[] | undefined) =>
    failed && transactionalDdl ? 0 : (results?.filter((r) => r.status === "Success").length ?? 0);
  let { error, results } = await migrator.migrateToLatest();
  let applied = kept(Boolean(error), results);
  for (let attempt = 1; error && attempt < attempts; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    ({ error, results } = await migrator.migrateToLatest());
    applied += kept(Boolean(error), results);
  }
  if (error) throw error;
  if (dialect.changeFeed === "listen") await settleNotify(db, t, options.listen ?? false);
  return applied;
}
