import { CompiledQuery, type Kysely, type Selectable } from "kysely";
import type { VisitorLog } from "../../core/visitor.js";
import type { NewVisitorLog, VisitLogStore } from "../store.js";
import { type LogRow, logInsertSql, logParameters, logRow } from "./log-inserts.js";
import type { Database, SqlTables, VisitorLogRow } from "./schema.js";
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
    const text = logInsertSql(this.#dialect, this.#t.logs, rows.length);
    await this.#db.executeQuery(CompiledQuery.raw(text, logParameters(rows)));
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
}

function toLog(row: Selectable<VisitorLogRow>): VisitorLog {
  return {
    id: Number(row.id),
    visitorId: Number(row.visitor_id),
    sessionKey: row.session_key,
    httpMethod: row.http_method,
    requestUri: row.request_uri,
    queryString: row.query_string,
    httpUserAgent: row.http_user_agent,
    httpReferer: row.http_referer,
    remoteAddr: row.remote_addr,
    statusCode: row.status_code === null ? null : Number(row.status_code),
    timestamp: new Date(Number(row.timestamp)),
  };
}
