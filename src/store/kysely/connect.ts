import {
  Kysely,
  MysqlDialect,
  type MysqlPool,
  type MysqlPoolConnection,
  type MysqlQueryResult,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
} from "kysely";
import { type DatabaseTarget, DEFAULT_STORE_TIMEOUT } from "../../core/config.js";
import { VisitorPassConfigError } from "../../core/errors.js";
import { dialectOf, MYSQL, POSTGRES, SQLITE, type StoreDialect } from "./dialects.js";
import type { Database } from "./schema.js";
import { BusyRetrySqliteDialect, SQLITE_BUSY_TIMEOUT_MS } from "./sqlite-busy-retry.js";
import { keepingStatements } from "./sqlite-statement-cache.js";
import { overdue, timeLeft } from "./store-deadline.js";

export interface Connection {
  db: Kysely<Database>;
  /** What differs on its database. */
  dialect: StoreDialect;
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
   * How long (ms) one call may wait for the database: on SQLite, for a lock another connection
   * holds (asynchronously, see `BusyRetrySqliteDialect`); on PostgreSQL and MySQL, for a new
   * connection to open (or, on PostgreSQL, for a free one in the pool).
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
    case "kysely": {
      // The core only tells a Kysely instance from a URL; the store is the one that uses it.
      const db = target.db as Kysely<Database>;
      return { db, dialect: dialectOf(db), owned: false };
    }
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
          dialect: new BusyRetrySqliteDialect(
            { database: async () => keepingStatements(await open()) },
            inTransaction,
            storeTimeout,
          ),
        }),
        dialect: SQLITE,
        owned: true,
        sqlite: () => handle,
        sqliteShared: target.filename !== ":memory:",
      };
    }
    case "postgres":
      return {
        db: new Kysely<Database>({
          dialect: new PostgresDialect({ pool: () => openPostgres(target.url, storeTimeout) }),
        }),
        dialect: POSTGRES,
        owned: true,
      };
    case "mysql":
      return {
        db: new Kysely<Database>({
          dialect: new MysqlDialect({ pool: () => openMysql(target.url, storeTimeout) }),
        }),
        dialect: MYSQL,
        owned: true,
      };
    case "store":
      throw new VisitorPassConfigError(
        "database",
        undefined,
        "a store was handed in (the store option): there is no database to open",
      );
  }
}

async function openSqlite(filename: string) {
  const { default: Sqlite } = await importDriver(
    SQLITE,
    () => import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "better-sqlite3"),
  );
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

async function openPostgres(url: string, connectTimeout: number): Promise<PostgresPool> {
  const { default: pg } = await importDriver(
    POSTGRES,
    () => import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "pg"),
  );
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: connectTimeout });
  // A client losing its connection, idle or checked out, must not crash the process: the query in
  // flight fails (and is reported as unavailable), and the next one gets a fresh connection.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  const isServerError = (error: unknown) => error instanceof pg.DatabaseError;
  return {
    connect: async () => boundedPgClient(await pool.connect(), isServerError),
    end: () => pool.end(),
  };
}

/**
 * A checked-out PostgreSQL client whose queries end with the deadline of the store call that
 * sends them (`query_timeout`), and which is destroyed on release once a query failed other than
 * by the server's own answer: a query left unanswered (a silent network) leaves the connection
 * waiting for its reply forever, and pg would hand it out again, Kysely releasing it as healthy.
 */
function boundedPgClient(
  client: import("pg").PoolClient,
  isServerError: (error: unknown) => boolean,
): PostgresPoolClient {
  let broken: Error | null = null;
  let sent = false;
  const fail = (error: unknown) => {
    if (!isServerError(error)) broken ??= error as Error;
    throw error;
  };
  return {
    query: ((text: unknown, values?: readonly unknown[]) => {
      // Cursors (streams) are not used by the store: passed through as they are.
      if (typeof text !== "string") return client.query(text as never);
      if (broken) return Promise.reject(broken);
      const left = timeLeft();
      if (left === undefined) {
        sent = true;
        return client.query(text, values as unknown[]).catch(fail);
      }
      if (left <= 0) {
        // Refused unsent. After an earlier query of this checkout, the connection may be inside
        // the transaction this one belonged to: it is not handed out again.
        const error = overdue();
        if (sent) broken ??= error;
        return Promise.reject(error);
      }
      sent = true;
      // pg's own per-query timeout (its types do not name it).
      const config = { text, values, query_timeout: Math.ceil(left) } as import("pg").QueryConfig;
      return client.query(config).catch(fail);
    }) as PostgresPoolClient["query"],
    release: (destroy?: boolean) => client.release(broken ?? destroy),
  };
}

async function openMysql(url: string, connectTimeout: number): Promise<MysqlPool> {
  const { createPool } = await importDriver(
    MYSQL,
    () => import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "mysql2"),
  );
  const pool = createPool({ uri: url, connectTimeout, supportBigNumbers: true });
  pool.on("connection", (connection) => connection.on("error", () => {}));
  return {
    getConnection: (callback) =>
      pool.getConnection((error, connection) =>
        callback(error, error ? (connection as never) : boundedMysqlConnection(connection)),
      ),
    // Every connection is closed, those that cannot say goodbye (their network is gone, or they
    // never finished opening) all the same: mysql2 reports such a connection's error here.
    end: (callback) => pool.end(() => callback(null)),
  };
}

/**
 * A checked-out MySQL connection whose queries end with the deadline of the store call that
 * sends them (mysql2's `timeout`), and which is destroyed rather than returned to the pool once a
 * query failed other than by the server's own answer (see `boundedPgClient`).
 */
function boundedMysqlConnection(connection: import("mysql2").PoolConnection): MysqlPoolConnection {
  let broken: Error | null = null;
  let sent = false;
  const query = (
    sql: string,
    parameters: unknown[],
    callback?: (error: unknown, result: MysqlQueryResult) => void,
  ) => {
    // Streams are not used by the store: passed through as they are.
    if (!callback) return connection.query(sql, parameters);
    const done = (error: unknown, result?: unknown) => {
      if (error && !isMysqlServerError(error)) broken ??= error as Error;
      callback(error, result as MysqlQueryResult);
    };
    if (broken) return void process.nextTick(callback, broken);
    const left = timeLeft();
    if (left !== undefined && left <= 0) {
      // Refused unsent (see `boundedPgClient`).
      const error = overdue();
      if (sent) broken ??= error;
      return void process.nextTick(callback, error);
    }
    sent = true;
    const options = left === undefined ? { sql } : { sql, timeout: Math.ceil(left) };
    connection.query(options, parameters, done);
  };
  return {
    query: query as MysqlPoolConnection["query"],
    release: () => (broken ? connection.destroy() : connection.release()),
  };
}

/** An error the server answered with (the connection is fine), not one of the connection. */
function isMysqlServerError(error: unknown): boolean {
  const { sqlState, fatal } = error as { sqlState?: unknown; fatal?: unknown };
  return typeof sqlState === "string" && fatal !== true;
}

/**
 * Loads a database driver. The drivers are optional peer dependencies (an app installs the one
 * it uses), so a missing one fails with the command that installs it rather than a bare
 * module-not-found error. Any other failure to load (a broken native build, a missing dependency
 * of the driver itself) is rethrown as it is. Each `load` leaves its import to Node at run time
 * (`webpackIgnore`, `turbopackIgnore`): an app bundled by Next.js must build without the drivers
 * it does not use.
 */
export async function importDriver<T>(dialect: StoreDialect, load: () => Promise<T>): Promise<T> {
  const { label, package: pkg, install, shown } = dialect.driver;
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
      `the ${label} driver is not installed: npm install ${install}`,
    );
    failure.cause = error;
    throw failure;
  }
}
