import { setTimeout as sleep } from "node:timers/promises";
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  SqliteDialect,
  type SqliteDialectConfig,
  type TransactionSettings,
} from "kysely";
import { VisitorPassUnavailable } from "../../core/errors.js";
import { SQLITE } from "./dialects.js";
import { storageFull } from "./storage-full.js";

/**
 * How long (ms) SQLite itself waits for another connection's lock, inside one statement. Its
 * driver is synchronous: that wait holds the event loop, so it stays a few milliseconds, enough
 * for another process's short write to finish. Longer waits happen between attempts, on timers.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 5;

/** The first rest between two attempts (ms); each rest doubles, up to `MAX_REST_MS`. */
const FIRST_REST_MS = 5;
const MAX_REST_MS = 50;

/**
 * Another connection holds the lock this statement needs (`SQLITE_BUSY`, `SQLITE_LOCKED` and
 * their extended codes). Not `SQLITE_BUSY_SNAPSHOT`: a transaction whose snapshot is stale can
 * only be rolled back, never retried into success.
 */
function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" &&
    /^SQLITE_(BUSY|LOCKED)/.test(code) &&
    code !== "SQLITE_BUSY_SNAPSHOT"
  );
}

/**
 * The error a failed SQLite statement surfaces as: no room left (`SQLITE_FULL`) becomes
 * `VisitorPassStorageFull`, a lock still held at the deadline `VisitorPassUnavailable`, each
 * with the database's error as `cause`; every other error (constraint violations included,
 * which callers tell apart by code) is left as it is.
 */
function sqliteFailure(error: unknown): unknown {
  const full = storageFull(SQLITE, error);
  if (full) return full;
  if (isSqliteBusy(error)) return new VisitorPassUnavailable({ cause: error });
  return error;
}

/**
 * Runs `attempt` until it does not fail for a lock another connection holds, resting on a timer
 * between two attempts (so the event loop keeps serving), until `deadline` (`performance.now()`
 * ms); then fails with `sqliteFailure` of the last error. `attempt` is called at least once, and
 * must be safe to repeat after a busy failure: a statement outside a transaction, a `BEGIN
 * IMMEDIATE`, a `COMMIT`, or a whole transaction (which SQLite rolled back).
 */
export async function retryWhileBusy<T>(attempt: () => T, deadline: number): Promise<Awaited<T>> {
  for (let rest = FIRST_REST_MS; ; rest = Math.min(MAX_REST_MS, rest * 2)) {
    try {
      return await attempt();
    } catch (error) {
      const left = deadline - performance.now();
      if (!isSqliteBusy(error) || left <= 0) throw sqliteFailure(error);
      await sleep(Math.min(rest, Math.ceil(left)));
    }
  }
}

/**
 * Kysely's SQLite dialect, every statement of which waits for another connection's lock
 * asynchronously, up to `timeout` ms from when it asked for the connection (see
 * `retryWhileBusy`), and whose transactions begin with `BEGIN IMMEDIATE`, so that a writer waits
 * at its first statement, where a retry is safe, rather than failing midway.
 */
export class BusyRetrySqliteDialect extends SqliteDialect {
  readonly #inTransaction: () => boolean;
  readonly #timeout: number;

  constructor(config: SqliteDialectConfig, inTransaction: () => boolean, timeout: number) {
    super(config);
    this.#inTransaction = inTransaction;
    this.#timeout = timeout;
  }

  override createDriver(): Driver {
    return new BusyRetryDriver(super.createDriver(), this.#inTransaction, this.#timeout);
  }
}

class BusyRetryDriver implements Driver {
  #connection: BusyRetryConnection | null = null;

  constructor(
    readonly inner: Driver,
    readonly inTransaction: () => boolean,
    readonly timeout: number,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    // The deadline counts the wait for the connection (SQLite has one, taken in turn) too.
    const deadline = performance.now() + this.timeout;
    const connection = await this.inner.acquireConnection();
    if (this.#connection?.inner !== connection) {
      this.#connection = new BusyRetryConnection(connection, this.inTransaction);
    }
    this.#connection.deadline = deadline;
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings) {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler["compileQuery"],
  ): Promise<void> {
    return this.inner.savepoint!(connection, name, compile);
  }

  rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler["compileQuery"],
  ): Promise<void> {
    return this.inner.rollbackToSavepoint!(connection, name, compile);
  }

  releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler["compileQuery"],
  ): Promise<void> {
    return this.inner.releaseSavepoint!(connection, name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((connection as BusyRetryConnection).inner ?? connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

class BusyRetryConnection implements DatabaseConnection {
  deadline = 0;

  constructor(
    readonly inner: DatabaseConnection,
    readonly inTransaction: () => boolean,
  ) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    // Inside a transaction only COMMIT may be tried again: another statement failing there
    // leaves the transaction to be rolled back (BEGIN IMMEDIATE already holds the write lock).
    const repeatable = !this.inTransaction() || /^\s*commit\b/i.test(query.sql);
    if (!repeatable) {
      try {
        return this.inner.executeQuery<R>(query).catch((error) => {
          throw sqliteFailure(error);
        });
      } catch (error) {
        return Promise.reject(sqliteFailure(error));
      }
    }
    return retryWhileBusy(() => this.inner.executeQuery<R>(query), this.deadline);
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}
