import type { SqliteHandle, SqliteStatement } from "./kysely-connect.js";
import { isConstraintViolation, type LogRow, logInsertSql, logParameters } from "./log-inserts.js";

/**
 * Most visit logs one SQLite statement inserts: a multi-row insert with positional parameters
 * costs about a third less per row than a statement per row (bench/README.md), and 50 rows of 12
 * columns stay far below SQLite's bound on parameters.
 */
const ROWS_PER_INSERT = 50;

/**
 * The hot statements on a SQLite database this package opened, as prepared statements on the
 * driver's connection: the data-version check behind the pass cache, visit log inserts (one
 * transaction per batch), and the purge's checkpoints. Each steps aside (returns `null`, or does
 * nothing) while the connection is not yet open or is inside a transaction of Kysely's, which
 * then goes first.
 */
export class SqliteFastPath {
  #seen = -1;
  #version: SqliteStatement | null = null;
  #checkpoint: SqliteStatement | null = null;
  #insertLogs: ((rows: readonly LogRow[]) => number) | null = null;
  readonly #inserts = new Map<number, SqliteStatement>();

  constructor(
    readonly handle: () => SqliteHandle | null,
    readonly logsTable: string,
  ) {}

  /** Whether another connection committed since the last call (`PRAGMA data_version`). */
  changedElsewhere(): boolean {
    const db = this.handle();
    if (!db) return true;
    this.#version ??= db.prepare("PRAGMA data_version").pluck();
    const current = this.#version.get() as number;
    const changed = current !== this.#seen;
    this.#seen = current;
    return changed;
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
   * refused (their pass was deleted meanwhile), or `null` to use the slow path.
   */
  insertLogs(rows: readonly LogRow[]): number | null {
    const db = this.handle();
    if (!db || db.inTransaction) return null;
    this.#insertLogs ??= db.transaction((batch: readonly LogRow[]) => {
      let refused = 0;
      for (let start = 0; start < batch.length; start += ROWS_PER_INSERT) {
        const chunk = batch.slice(start, start + ROWS_PER_INSERT);
        try {
          this.#insert(db, chunk.length).run(logParameters(chunk));
        } catch (error) {
          if (!isConstraintViolation(error)) throw error;
          // A refused row fails its whole statement: that chunk goes in row by row, so that
          // the refused rows fail alone.
          for (const row of chunk) {
            try {
              this.#insert(db, 1).run(logParameters([row]));
            } catch (rowError) {
              if (!isConstraintViolation(rowError)) throw rowError;
              refused += 1;
            }
          }
        }
      }
      return refused;
    });
    return this.#insertLogs(rows);
  }

  /** The prepared insert of `rows` rows (one per chunk size, prepared once). */
  #insert(db: SqliteHandle, rows: number): SqliteStatement {
    let statement = this.#inserts.get(rows);
    if (!statement) {
      statement = db.prepare(logInsertSql("sqlite", this.logsTable, rows));
      this.#inserts.set(rows, statement);
    }
    return statement;
  }
}
