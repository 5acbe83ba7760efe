import type { Insertable } from "kysely";
import type { NewVisitorLog } from "../store.js";
import type { SqlFamily } from "./kysely-connect.js";
import type { VisitorLogRow } from "./kysely-schema.js";

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
 * parameters, in the quoting and placeholders of `family`. Building the text costs well under a
 * microsecond a row; SQLite's prepared statements keep theirs.
 *
 * A row whose idempotency key is already stored is skipped, in the same statement: a batch that
 * committed but whose reply was lost is written again, and must not write its visits twice. Only
 * that conflict is skipped; a row whose pass is gone still fails the statement (see
 * `KyselyStore#insertLogs`), hence no MySQL `insert ignore`, which would drop it silently.
 */
export function logInsertSql(family: SqlFamily, table: string, rows: number): string {
  const quote = family === "mysql" ? "`" : '"';
  const columns = LOG_COLUMNS.map((column) => `${quote}${column}${quote}`).join(", ");
  const width = LOG_COLUMNS.length;
  const tuples: string[] = [];
  for (let row = 0; row < rows; row++) {
    const marks = LOG_COLUMNS.map((_, column) =>
      // PostgreSQL numbers its parameters; SQLite and MySQL take them in order.
      family === "postgres" ? `$${row * width + column + 1}` : "?",
    );
    tuples.push(`(${marks.join(", ")})`);
  }
  const skipStored =
    family === "mysql"
      ? "on duplicate key update `id` = `id`"
      : 'on conflict ("idempotency_key") do nothing';
  return `insert into ${quote}${table}${quote} (${columns}) values ${tuples.join(", ")} ${skipStored}`;
}

/** The database refused a row (foreign key, unique, not null…), as opposed to being unreachable. */
export function isConstraintViolation(error: unknown): boolean {
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown };
  if (typeof code === "string" && code.startsWith("SQLITE_CONSTRAINT")) return true;
  if (typeof code === "string" && /^23\d{3}$/.test(code)) return true;
  return typeof errno === "number" && [1048, 1062, 1216, 1451, 1452].includes(errno);
}
