import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_STORE_TIMEOUT } from "../../core/config.js";
import type { SqliteHandle, SqliteStatement, SqliteTransaction } from "./connect.js";
import { SQLITE } from "./dialects.js";
import { type LogRow, logInsertSql, logParameters } from "./log-inserts.js";
import { retryWhileBusy } from "./sqlite-busy-retry.js";

/**
 * Most visit logs one SQLite statement inserts: a multi-row insert with positional parameters
 * costs about a third less per row than a statement per row (bench/README.md), and 50 rows of 12
 * columns stay far below SQLite's bound on parameters.
 */
const ROWS_PER_INSERT = 50;

/**
 * How long (ms) one data-version check answers for. The check takes two `fcntl` system calls:
 * 5 µs in a loop, about 10 µs inside a loaded server (bench/README.md), some 3 % of a visitor
 * request when made for each one. Made at most once in this window, it stays exact for every
 * write through visitor-pass, which resolves only once the window has passed since it committed
 * (`seenElsewhere`); a write by another tool is seen within it.
 */
export const CHECK_WINDOW_MS = 5;

/**
 * The hot statements on a SQLite database this package opened, as prepared statements on the
 * driver's connection: the data-version check behind the pass cache, visit log inserts (one
 * transaction per batch), and the purge's checkpoints. Each steps aside (returns `null`, or does
 * nothing) while the connection is not yet open or is inside a transaction of Kysely's, which
 * then goes first.
 */
export class SqliteFastPath {
  #seen = -1;
  /** Until when (`clock()`) the last data-version check answers. */
  #checkedUntil = Number.NEGATIVE_INFINITY;
  #version: SqliteStatement | null = null;
  #checkpoint: SqliteStatement | null = null;
  #insertLogs: SqliteTransaction<[readonly LogRow[]], number> | null = null;
  readonly #inserts = new Map<number, SqliteStatement>();

  readonly #shared: boolean;
  readonly #clock: () => number;
  readonly #storeTimeout: number;

  /**
   * `shared`: whether other connections can open the database (a file, not `:memory:`); only
   * then do writes wait for them to see it. `clock`: a monotonic clock in ms, running alike in
   * every process on the machine (all of which a database in WAL mode must be on anyway).
   * `storeTimeout`: how long (ms) a write waits for another connection's lock.
   */
  constructor(
    readonly handle: () => SqliteHandle | null,
    readonly logsTable: string,
    {
      shared = true,
      clock = () => performance.now(),
      storeTimeout = DEFAULT_STORE_TIMEOUT,
    }: { shared?: boolean; clock?: () => number; storeTimeout?: number } = {},
  ) {
    this.#shared = shared;
    this.#clock = clock;
    this.#storeTimeout = storeTimeout;
  }

  /**
   * Whether another connection may have committed since the last call (`PRAGMA data_version`).
   * Within `CHECK_WINDOW_MS` of a check it answers from that check: no commit was seen since.
   */
  changedElsewhere(): boolean {
    const now = this.#clock();
    if (now < this.#checkedUntil) return false;
    const db = this.handle();
    if (!db) return true;
    this.#version ??= db.prepare("PRAGMA data_version").pluck();
    const current = this.#version.get() as number;
    const changed = current !== this.#seen;
    this.#seen = current;
    // From the time taken before the check: it saw every commit made before then.
    this.#checkedUntil = now + CHECK_WINDOW_MS;
    return changed;
  }

  /**
   * Resolves once every connection's `changedElsewhere()` reports a write this one committed
   * before the call: `CHECK_WINDOW_MS` later, when any check that missed it has run out. A write
   * that can end a pass's access waits for it before it resolves, so that a deactivation is
   * refused on the next request, in every process, once `deactivate()` has returned.
   */
  async seenElsewhere(): Promise<void> {
    if (!this.#shared) return;
    const until = this.#clock() + CHECK_WINDOW_MS;
    // A timer may fire a little early (the event loop's clock lags the real one): ask again.
    for (let left = CHECK_WINDOW_MS; left > 0; left = until - this.#clock()) {
      await sleep(Math.ceil(left));
    }
  }

  /**
   * Copies what the write-ahead log holds back into the database, as far as readers allow, without
   * waiting for any lock (a passive checkpoint).
   */
  checkpoint(): void {
    const db = this.handle();
    if (!db || db.inTransaction) return;
    this.#checkpoint ??= db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
    this.#checkpoint.get();
  }

  /**
   * Inserts `rows` in one transaction, up to `ROWS_PER_INSERT` rows per statement; the number
   * refused (their pass was deleted meanwhile), or `null` to use the slow path. While another
   * connection holds the write lock, the transaction is tried again on a timer (see
   * `retryWhileBusy`) for up to `storeTimeout` ms.
   */
  insertLogs(rows: readonly LogRow[]): Promise<number | null> {
    return retryWhileBusy(() => this.#insertLogsOnce(rows), performance.now() + this.#storeTimeout);
  }

  #insertLogsOnce(rows: readonly LogRow[]): number | null {
    const db = this.handle();
    if (!db || db.inTransaction) return null;
    this.#insertLogs ??= db.transaction((batch: readonly LogRow[]) => {
      let refused = 0;
      for (let start = 0; start < batch.length; start += ROWS_PER_INSERT) {
        const chunk = batch.slice(start, start + ROWS_PER_INSERT);
        try {
          this.#insert(db, chunk.length).run(logParameters(chunk));
        } catch (error) {
          if (!SQLITE.isConstraintViolation(error)) throw error;
          // A refused row fails its whole statement: that chunk goes in row by row, so that
          // the refused rows fail alone.
          for (const row of chunk) {
            try {
              this.#insert(db, 1).run(logParameters([row]));
            } catch (rowError) {
              if (!SQLITE.isConstraintViolation(rowError)) throw rowError;
              refused += 1;
            }
          }
        }
      }
      return refused;
    });
    // Begun as a writer: a lock held elsewhere then fails the BEGIN, before any row is written.
    return this.#insertLogs.immediate(rows);
  }

  /** The prepared insert of `rows` rows (one per chunk size, prepared once). */
  #insert(db: SqliteHandle, rows: number): SqliteStatement {
    let statement = this.#inserts.get(rows);
    if (!statement) {
      statement = db.prepare(logInsertSql(SQLITE, this.logsTable, rows));
      this.#inserts.set(rows, statement);
    }
    return statement;
  }
}
