import * as kysely from "kysely";
import {
  type CreateTableBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type Migrator,
  sql,
} from "kysely";
import type { SqlFamily } from "./kysely-connect.js";

export interface TableNames {
  visitors: "visitors";
  logs: "visitor_logs";
  migrations: string;
  migrationLock: string;
}

/**
 * Table names carrying the configured prefix. They are typed as the schema's unprefixed names so
 * queries stay checked; at run time they are the prefixed ones.
 */
export function tableNames(prefix: string): TableNames {
  return {
    visitors: `${prefix}visitors` as "visitors",
    logs: `${prefix}visitor_logs` as "visitor_logs",
    migrations: `${prefix}migrations`,
    migrationLock: `${prefix}migrations_lock`,
  };
}

/** The PostgreSQL channel on which changes to passes are announced (see `installNotify`). */
export function changeChannel(t: TableNames): string {
  return `${t.visitors}_changed`;
}

function notifyNames(t: TableNames) {
  return {
    fn: `${t.visitors}_notify`,
    trigger: `${t.visitors}_notify_changes`,
    channel: changeChannel(t),
  };
}

/**
 * The `application_name` of a connection listening on `channel`: how a `migrate()` without
 * `passCache: "listen"` tells that a process still needs the trigger. PostgreSQL keeps 63 bytes
 * of it; table prefixes are ASCII.
 */
export function listenerName(channel: string): string {
  return `visitor-pass listener ${channel}`.slice(0, 63);
}

const quoteId = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * Serialises what installs or drops the trigger of one channel, across processes: several may
 * migrate, or start listening, at once. The first key keeps it apart from other advisory locks.
 */
const lockNotify = (channel: string) =>
  `select pg_advisory_xact_lock(1986095728, hashtext(${quoteLiteral(channel)}))`;

/**
 * PostgreSQL, run in one transaction: a trigger that announces every update or delete of passes,
 * by any process or tool, on the `changeChannel`, which keeps the `passCache: "listen"` caches in
 * step (one notice per statement; the listeners drop their whole cache). Idempotent; the
 * trigger is created only where it is missing, so running this again takes no lock on the table.
 */
export function installNotify(t: TableNames): string[] {
  const { fn, trigger, channel } = notifyNames(t);
  const table = quoteId(t.visitors);
  return [
    lockNotify(channel),
    `create or replace function ${quoteId(fn)}() returns trigger language plpgsql as $$
      begin
        perform pg_notify(${quoteLiteral(channel)}, '');
        return null;
      end $$`,
    `do $$ begin
      if not exists (select 1 from pg_trigger where tgname = ${quoteLiteral(trigger)}
          and tgrelid = ${quoteLiteral(table)}::regclass) then
        create trigger ${quoteId(trigger)} after update or delete or truncate on ${table}
          for each statement execute function ${quoteId(fn)}();
      end if;
    end $$`,
  ];
}

/**
 * PostgreSQL, run in one transaction: whether the trigger is there, taken under the same lock
 * as `installNotify`, so that a listener that finds it knows no migration is dropping it.
 */
export function hasNotify(t: TableNames): string[] {
  const { trigger, channel } = notifyNames(t);
  return [
    lockNotify(channel),
    `select 1 as present from pg_trigger where tgname = ${quoteLiteral(trigger)}
      and tgrelid = to_regclass(${quoteLiteral(quoteId(t.visitors))})`,
  ];
}

/**
 * PostgreSQL, one transaction: installs the trigger when `listen`, or drops it (and its function)
 * when not, unless a process is listening on its channel right now (such a process was started
 * with `passCache: "listen"` and needs it; its listener installs it again should it be missing).
 */
async function settleNotify(db: Kysely<any>, t: TableNames, listen: boolean): Promise<void> {
  const { fn, trigger, channel } = notifyNames(t);
  await db.transaction().execute(async (trx) => {
    if (listen) {
      for (const statement of installNotify(t)) await sql.raw(statement).execute(trx);
      return;
    }
    await sql.raw(lockNotify(channel)).execute(trx);
    const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity
      where datname = current_database() and application_name = ${listenerName(channel)}
        and pid <> pg_backend_pid() limit 1`.execute(trx);
    if (rows.length > 0) return;
    await sql`drop trigger if exists ${sql.id(trigger)} on ${sql.table(t.visitors)}`.execute(trx);
    await sql`drop function if exists ${sql.id(fn)}()`.execute(trx);
  });
}

/**
 * The versioned migrations, oldest first. Never edit one that has shipped: add the next.
 * Column types differ by family only where the databases differ (identity columns, booleans,
 * MySQL's size-limited `text`).
 */
export function migrations(family: SqlFamily, t: TableNames): Record<string, Migration> {
  const idType = (big: boolean) =>
    family === "postgres"
      ? big
        ? "bigserial"
        : "serial"
      : family === "mysql" && big
        ? "bigint"
        : "integer";
  // MySQL's `text` holds 64 KiB; PostgreSQL's and SQLite's have no such limit.
  const text = family === "mysql" ? sql`longtext` : "text";
  /**
   * On MySQL, whatever the database's defaults: utf8mb4, so that any character fits, and a binary
   * collation, so that `=` and `like` match exactly (case and accents count) as on the others.
   */
  const charset = <B extends CreateTableBuilder<any, any>>(table: B): B =>
    family === "mysql"
      ? (table.modifyEnd(sql`default character set utf8mb4 collate utf8mb4_bin`) as B)
      : table;

  return {
    "0001_create_visitors": {
      async up(db: Kysely<any>) {
        await charset(db.schema.createTable(t.visitors))
          .addColumn("id", idType(false), (c) =>
            family === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
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
          .addColumn("is_active", family === "sqlite" ? "integer" : "boolean", (c) => c.notNull())
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

        await charset(db.schema.createTable(t.logs))
          .addColumn("id", idType(true), (c) =>
            family === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
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
        const existing = family === "sqlite" ? await sqliteColumns(db, t.logs) : new Set<string>();
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
        await (family === "sqlite" ? index.ifNotExists() : index).execute();
      },
      async down(db: Kysely<any>) {
        const drop = db.schema.dropIndex(`${t.logs}_visitor_signals_ix`);
        await (family === "mysql" ? drop.on(t.logs) : drop).execute();
        await db.schema.alterTable(t.logs).dropColumn("browser_family").execute();
        await db.schema.alterTable(t.logs).dropColumn("client_network").execute();
      },
    },
    "0003_self_service_form_key": {
      // The token a self-service pass had while its form was pending: the pass is activated under
      // a new token (sent by email), and `get()` still finds it by the old one.
      async up(db: Kysely<any>) {
        const existing =
          family === "sqlite" ? await sqliteColumns(db, t.visitors) : new Set<string>();
        if (!existing.has("form_uuid")) {
          await db.schema.alterTable(t.visitors).addColumn("form_uuid", "varchar(64)").execute();
        }
        const index = db.schema
          .createIndex(`${t.visitors}_form_uuid_uq`)
          .on(t.visitors)
          .column("form_uuid")
          .unique();
        await (family === "sqlite" ? index.ifNotExists() : index).execute();
      },
      async down(db: Kysely<any>) {
        const drop = db.schema.dropIndex(`${t.visitors}_form_uuid_uq`);
        await (family === "mysql" ? drop.on(t.visitors) : drop).execute();
        await db.schema.alterTable(t.visitors).dropColumn("form_uuid").execute();
      },
    },
    "0004_drop_redundant_log_index": {
      // (visitor_id, timestamp) is the prefix of the sharing signals index (0002), which serves
      // every query this one did, the foreign key included: one index less to update per visit.
      async up(db: Kysely<any>) {
        const drop = db.schema.dropIndex(`${t.logs}_visitor_time_ix`);
        await (family === "mysql" ? drop.on(t.logs) : drop.ifExists()).execute();
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
        const existing = family === "sqlite" ? await sqliteColumns(db, t.logs) : new Set<string>();
        if (!existing.has("idempotency_key")) {
          await db.schema.alterTable(t.logs).addColumn("idempotency_key", "varchar(36)").execute();
        }
        const index = db.schema
          .createIndex(`${t.logs}_idempotency_key_uq`)
          .on(t.logs)
          .column("idempotency_key")
          .unique();
        await (family === "sqlite" ? index.ifNotExists() : index).execute();
      },
      async down(db: Kysely<any>) {
        const drop = db.schema.dropIndex(`${t.logs}_idempotency_key_uq`);
        await (family === "mysql" ? drop.on(t.logs) : drop).execute();
        await db.schema.alterTable(t.logs).dropColumn("idempotency_key").execute();
      },
    },
  };
}

async function sqliteColumns(db: Kysely<any>, table: string): Promise<Set<string>> {
  const columns = sql<{ name: string }>`select name from pragma_table_info(${table})`;
  const { rows } = await columns.execute(db);
  return new Set(rows.map((row) => row.name));
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

/** Runs of `migrateToLatest` on SQLite before it gives up on a race. */
const SQLITE_ATTEMPTS = 5;

/**
 * Brings the tables up to date, and on PostgreSQL the notify trigger in line with `listen`
 * (`settleNotify`). Idempotent. On PostgreSQL and MySQL, Kysely's migration lock
 * serialises concurrent runs. SQLite has no such lock: a run that lost the race (it found a
 * migration pending, then the tables already there, or its row already written) runs again, a
 * few times if need be, until it finds nothing left to do.
 */
export async function migrateToLatest(
  db: Kysely<any>,
  family: SqlFamily,
  t: TableNames,
  options: { listen?: boolean } = {},
): Promise<number> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(family, t) };
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
  const attempts = family === "sqlite" ? SQLITE_ATTEMPTS : 3;
  // A failed run is rolled back where DDL is transactional (SQLite, PostgreSQL), so only MySQL
  // keeps, and counts, what it applied before failing.
  const kept = (failed: boolean, results: readonly { status: string }[] | undefined) =>
    failed && family !== "mysql" ? 0 : (results?.filter((r) => r.status === "Success").length ?? 0);
  let { error, results } = await migrator.migrateToLatest();
  let applied = kept(Boolean(error), results);
  for (let attempt = 1; error && attempt < attempts; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    ({ error, results } = await migrator.migrateToLatest());
    applied += kept(Boolean(error), results);
  }
  if (error) throw error;
  if (family === "postgres") await settleNotify(db, t, options.listen ?? false);
  return applied;
}
