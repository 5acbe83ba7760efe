import type { Insertable } from "kysely";
import type { NewVisitorLog } from "../store.js";
import type { StoreDialect } from "./dialects.js";
import type { VisitorLogRow } from "./schema.js";

/**
 * Visit log inserts as plain multi-row SQL with positional parameters: a batch of logs is the one
 * write following every guarded request, and building it through the query builder cost about
 * 14 µs of CPU per logged request on PostgreSQL (bench/README.md).
 */

/** A log as a row of the logs table. */
export function logRow(log: NewVisitorLog) {
  return {
    visitor_id: log.visitorId,
    session_key: log.sessionKey,
    http_method: log.httpMethod,
    request_uri: log.requestUri,
    query_string: log.queryString,
    http_user_agent: log.httpUserAgent,
    http_referer: log.httpReferer,
    remote_addr: log.remoteAddr,
    status_code: log.statusCode,
    timestamp: log.timestamp.getTime(),
    client_network: log.clientNetwork ?? null,
    browser_family: log.browserFamily ?? null,
    idempotency_key: log.idempotencyKey ?? null,
  } satisfies Insertable<VisitorLogRow>;
}

export type LogRow = ReturnType<typeof logRow>;

/** The columns an insert names, in the order of its parameters. */
export const LOG_COLUMNS: readonly (keyof LogRow)[] = [
  "visitor_id",
  "session_key",
  "http_method",
  "request_uri",
  "query_string",
  "http_user_agent",
  "http_referer",
  "remote_addr",
  "status_code",
  "timestamp",
  "client_network",
  "browser_family",
  "idempotency_key",
];

/** The parameters of an insert of `rows`, row after row. */
export function logParameters(rows: readonly LogRow[]): unknown[] {
  const parameters: unknown[] = [];
  for (const row of rows) for (const column of LOG_COLUMNS) parameters.push(row[column]);
  return parameters;
}

/**
 * `insert into <logs> (…) values (…), (…)` for `rows` rows, with `rows × LOG_COLUMNS.length`
 * parameters, in the quoting and placeholders of `dialect`. Building the text costs well under a
 * microsecond a row; SQLite's prepared statements keep theirs.
 *
 * A row whose idempotency key is already stored is skipped, in the same statement: a batch that
 * committed but whose reply was lost is written again, and must not write its visits twice. Only
 * that conflict is skipped (`StoreDialect#skipDuplicate`); a row whose pass is gone still fails
 * the statement (see `KyselyVisitLogStore#insertLogs`).
 */
export function logInsertSql(dialect: StoreDialect, table: string, rows: number): string {
  const columns = LOG_COLUMNS.map(dialect.quoteId).join(", ");
  const width = LOG_COLUMNS.length;
  const tuples: string[] = [];
  for (let row = 0; row < rows; row++) {
    const marks = LOG_COLUMNS.map((_, column) => dialect.placeholder(row * width + column + 1));
    tuples.push(`(${marks.join(", ")})`);
  }
  const skipStored = dialect.skipDuplicate("idempotency_key");
  return `insert into ${dialect.quoteId(table)} (${columns}) values ${tuples.join(", ")} ${skipStored}`;
}
