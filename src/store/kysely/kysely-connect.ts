import { Kysely, MysqlDialect, PostgresDialect } from "kysely";
import { type DatabaseTarget, DEFAULT_STORE_TIMEOUT } from "../../core/config.js";
import { VisitorPassConfigError } from "../../core/errors.js";
import type { Database } from "./kysely-schema.js";
import { BusyRetrySqliteDialect, SQLITE_BUSY_TIMEOUT_MS } from "./sqlite-busy-retry.js";

export type SqlFamily = "sqlite" | "postgres" | "mysql";

export interface Connection {
  db: Kysely<Database>;
  family: SqlFamily;
  /** Whether `close()` should destroy `db` (false when the app handed us its own instance). */
  owned: boolean;
  /**
   * For a SQLite database this package opened: the driver's own connection (the one Kysely
   * uses), once it is open, for the few hot statements that skip the query builder.
   */
  sqlite?: () => SqliteHandle | null;
  /** For a SQLite database: whether other connections can open it (a file, not `:memory:`). */
  sqliteShared?: boolean;
}

/** The subset of better-sqlite3's `Database` the store uses directly. */
export interface SqliteHandle {
  readonly inTransaction: boolean;
  prepare(sql: string): SqliteStatement;
  transaction<A extends unknown[], R>(run: (...args: A) => R): SqliteTransaction<A, R>;
}

/** A function run in a transaction; `immediate` begins it with `BEGIN IMMEDIATE`. */
export interface SqliteTransaction<A extends unknown[], R> {
  (...args: A): R;
  immediate(...args: A): R;
}

export interface SqliteStatement {
  run(...parameters: unknown[]): unknown;
  get(...parameters: unknown[]): unknown;
  pluck(toggle?: boolean): SqliteStatement;
}

/** How the connections behave. */
export interface ConnectOptions {
  /**
   * SQLite: how long (ms) a statement waits, asynchronously, for a lock another connection
   * holds before it fails (see `BusyRetrySqliteDialect`).
   */
  storeTimeout: number;
}

/**
 * A Kysely instance for the configured database. Opens nothing yet: drivers are loaded and
 * connections made on the first query, so an app that uses PostgreSQL never loads SQLite's
 * native module, and `createVisitorPass()` does no I/O.
 */
export function connect(
  target: DatabaseTarget,
  { storeTimeout }: ConnectOptions = { storeTimeout: DEFAULT_STORE_TIMEOUT },
): Connection {
  switch (target.kind) {
    case "kysely":
      return { db: target.db as Kysely<Database>, family: familyOf(target.db), owned: false };
    case "sqlite": {
      let handle: SqliteHandle | null = null;
      const open = async () => {
        const database = await openSqlite(target.filename);
        handle = database as unknown as SqliteHandle;
        return database;
      };
      const inTransaction = () => (handle as SqliteHandle | null)?.inTransaction ?? false;
      return {
        db: new Kysely<Database>({
          dialect: new BusyRetrySqliteDialect({ database: open }, inTransaction, storeTimeout),
        }),
        family: "sqlite",
        owned: true,
        sqlite: () => handle,
        sqliteShared: target.filename !== ":memory:",
      };
    }
    case "postgres":
      return {
        db: new Kysely<Database>({
          dialect: new PostgresDialect({ pool: () => openPostgres(target.url) }),
        }),
        family: "postgres",
        owned: true,
      };
    case "mysql":
      return {
        db: new Kysely<Database>({
          dialect: new MysqlDialect({ pool: () => openMysql(target.url) }),
        }),
        family: "mysql",
        owned: true,
      };
  }
}

async function openSqlite(filename: string) {
  const { default: Sqlite } = await importDriver("sqlite", () => import("better-sqlite3"));
  const memory = filename === ":memory:";
  const database = new Sqlite(memory ? ":memory:" : filename);
  if (!memory) {
    database.pragma("journal_mode = WAL");
    database.pragma("synchronous = NORMAL");
  }
  // Longer waits for a lock happen between attempts, off the event loop (sqlite-busy-retry.ts).
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  database.pragma("foreign_keys = ON");
  // SQLite's own lower() folds ASCII only; searches fold case as the other databases do.
  database.function("lower", { deterministic: true }, (value: unknown) =>
    typeof value === "string" ? value.toLowerCase() : value,
  );
  return database;
}

async function openPostgres(url: string) {
  const { default: pg } = await importDriver("postgres", () => import("pg"));
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5000 });
  // A client losing its connection, idle or checked out, must not crash the process: the query in
  // flight fails (and is reported as unavailable), and the next one gets a fresh connection.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

async function openMysql(url: string) {
  const { createPool } = await importDriver("mysql", () => import("mysql2"));
  const pool = createPool({ uri: url, connectTimeout: 5000, supportBigNumbers: true });
  pool.on("connection", (connection) => connection.on("error", () => {}));
  return pool as never;
}

/**
 * Loads a database driver. The drivers are optional peer dependencies (an app installs the one
 * it uses), so a missing one fails with the command that installs it rather than a bare
 * module-not-found error. Any other failure to load (a broken native build, a missing dependency
 * of the driver itself) is rethrown as it is.
 */
export async function importDriver<T>(family: SqlFamily, load: () => Promise<T>): Promise<T> {
  const [name, pkg, install, shown] =
    family === "sqlite"
      ? ["SQLite", "better-sqlite3", "better-sqlite3@12", "sqlite:…"]
      : family === "postgres"
        ? ["PostgreSQL", "pg", "pg@8", "postgres://…"]
        : ["MySQL/MariaDB", "mysql2", "mysql2@3", "mysql://…"];
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const missing =
      (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
      String((error as Error).message).includes(`'${pkg}'`);
    if (!missing) throw error;
    // The URL itself is not repeated: it may carry a password.
    const failure = new VisitorPassConfigError(
      "database",
      shown,
      `the ${name} driver is not installed: npm install ${install}`,
    );
    failure.cause = error;
    throw failure;
  }
}

function familyOf(db: Kysely<any>): SqlFamily {
  const adapter = db.getExecutor().adapter;
  const name = adapter.constructor.name.toLowerCase();
  if (name.includes("mysql")) return "mysql";
  if (name.includes("sqlite") || name.includes("d1") || name.includes("libsql")) return "sqlite";
  return "postgres";
}
