import { CompiledQuery, type Kysely, type SelectQueryBuilder } from "kysely";
import { inBatches } from "../../core/batches.js";
import type { VisitorLog } from "../../core/visitor.js";
import type {
  LogEntry,
  LogSearch,
  LogTruncation,
  NewVisitorLog,
  PurgeBatches,
  VisitLogStore,
} from "../store.js";
import { type LogRow, logInsert, logRow } from "./log-inserts.js";
import { searchLogs, toLog } from "./log-search.js";
import type { Database, SqlTables } from "./schema.js";
import type { SqliteFastPath } from "./sqlite-fast-path.js";
import type { Bounded } from "./store-deadline.js";

/**
 * The visit logs (`VisitLogStore`) in SQL. Batches of logs go through the SQLite fast path where
 * there is one (`sqlite`), else as one multi-row insert written as text (`log-inserts.ts`),
 * within the deadline of `bounded`.
 */
export class KyselyVisitLogStore implements VisitLogStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlTables["dialect"];
  readonly #t: SqlTables["t"];
  readonly #bounded: Bounded;
  readonly #sqlite: SqliteFastPath | null;

  constructor({ db, dialect, t }: SqlTables, bounded: Bounded, sqlite: SqliteFastPath | null) {
    this.#db = db;
    this.#dialect = dialect;
    this.#t = t;
    this.#bounded = bounded;
    this.#sqlite = sqlite;
  }

  async insertLogs(logs: readonly NewVisitorLog[]): Promise<number> {
    if (logs.length === 0) return 0;
    const rows = logs.map(logRow);
    const fast = await this.#sqlite?.insertLogs(rows);
    if (fast !== undefined && fast !== null) return fast;
    return this.#bounded(() => this.#insertLogs(rows));
  }

  async #insertLogs(rows: readonly LogRow[]): Promise<number> {
    const refusal = this.#dialect.isConstraintViolation;
    try {
      await this.#insertRows(rows);
      return 0;
    } catch (error) {
      if (!refusal(error)) throw error;
    }
    // A row the database refuses (its pass was deleted meanwhile) must not hold up the others.
    let refused = 0;
    for (const row of rows) {
      try {
        await this.#insertRows([row]);
      } catch (error) {
        if (!refusal(error)) throw error;
        refused += 1;
      }
    }
    return refused;
  }

  /** One multi-row insert, its text written here rather than by the query builder (cheaper). */
  async #insertRows(rows: readonly LogRow[]): Promise<void> {
    const { sql, parameters } = logInsert(this.#dialect, this.#t.logs, rows);
    await this.#db.executeQuery(CompiledQuery.raw(sql, parameters));
  }

  async logs(visitorId: number): Promise<VisitorLog[]> {
    const rows = await this.#db
      .selectFrom(this.#t.logs)
      .selectAll()
      .where("visitor_id", "=", visitorId)
      .orderBy("timestamp", "desc")
      .orderBy("id", "desc")
      .execute();
    return rows.map(toLog);
  }

  searchLogs(search: LogSearch): Promise<LogEntry[]> {
    return searchLogs({ db: this.#db, dialect: this.#dialect, t: this.#t }, search);
  }

  async truncateLogs({ before, keep }: LogTruncation, batches: PurgeBatches = {}): Promise<number> {
    const cutoff = before?.getTime();
    let deleted = 0;
    const { onBatch } = batches;
    const deleteAll = async (
      ids: (db: Kysely<Database>, size: number) => LogIds,
    ): Promise<void> => {
      const from = deleted;
      deleted += await inBatches(
        async (size) => {
          // Through a derived table, for MySQL (as a purge does).
          const { numDeletedRows } = await this.#db
            .deleteFrom(this.#t.logs)
            .where(
              "id",
              "in",
              this.#db.selectFrom(ids(this.#db, size).as("batch")).select("batch.id"),
            )
            .executeTakeFirst();
          this.#sqlite?.checkpoint();
          return Number(numDeletedRows);
        },
        { ...batches, onBatch: onBatch && ((done) => onBatch(from + done)) },
      );
    };
    if (keep === undefined) {
      await deleteAll((db, size) => {
        let ids = db.selectFrom(this.#t.logs).select("id");
        if (cutoff !== undefined) ids = ids.where("timestamp", "<", cutoff);
        // In the order of the time index: when nothing is left to delete, finding so is cheap.
        return ids.orderBy("timestamp").limit(size);
      });
      return deleted;
    }
    // Pass by pass, among those with more than `keep` logs, a range of pass ids at a time, so
    // that each count reads the logs of at most `TRUNCATE_PASSES` passes.
    let after = 0;
    for (;;) {
      const range = await this.#db
        .selectFrom(this.#t.visitors)
        .select("id")
        .where("id", ">", after)
        .orderBy("id")
        .limit(TRUNCATE_PASSES)
        .execute();
      if (range.length === 0) return deleted;
      const upTo = Number(range[range.length - 1]!.id);
      const page = await this.#db
        .selectFrom(this.#t.logs)
        .select("visitor_id")
        .where("visitor_id", ">", after)
        .where("visitor_id", "<=", upTo)
        .groupBy("visitor_id")
        .having((eb) => eb.fn.countAll(), ">", keep)
        .execute();
      for (const { visitor_id } of page) {
        const visitorId = Number(visitor_id);
        // The oldest log the pass keeps: every older one goes (logs written meanwhile are newer).
        const edge =
          keep === 0
            ? null
            : await this.#db
                .selectFrom(this.#t.logs)
                .select(["timestamp", "id"])
                .where("visitor_id", "=", visitorId)
                .orderBy("timestamp", "desc")
                .orderBy("id", "desc")
                .limit(1)
                .offset(keep - 1)
                .executeTakeFirst();
        if (keep > 0 && !edge) continue;
        await deleteAll((db, size) => {
          let ids = db.selectFrom(this.#t.logs).select("id").where("visitor_id", "=", visitorId);
          if (edge) {
            const time = Number(edge.timestamp);
            const id = Number(edge.id);
            ids = ids.where((eb) =>
              eb.or([
                eb("timestamp", "<", time),
                eb.and([eb("timestamp", "=", time), eb("id", "<", id)]),
              ]),
            );
          }
          if (cutoff !== undefined) ids = ids.where("timestamp", "<", cutoff);
          return ids.orderBy("timestamp").limit(size);
        });
      }
      if (range.length < TRUNCATE_PASSES) return deleted;
      after = upTo;
    }
  }
}

/** Passes whose logs a truncation counts at a time, when it keeps the newest of each. */
const TRUNCATE_PASSES = 100;

type LogIds = SelectQueryBuilder<Database, "visitor_logs", { id: number }>;
