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

/** The SQL type of each column, for an insert from column arrays (`StoreDialect#columnArrays`). */
const LOG_COLUMN_TYPES: Readonly<Record<keyof LogRow, "bigint" | "integer" | "text">> = {
  visitor_id: "bigint",
  session_key: "text",
  http_method: "text",
  request_uri: "text",
  query_string: "text",
  http_user_agent: "text",
  http_referer: "text",
  remote_addr: "text",
  status_code: "integer",
  timestamp: "bigint",
  client_network: "text",
  browser_family: "text",
  idempotency_key: "text",
};

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

/** One insert of a batch of logs: its text and its parameters. */
export interface LogInsert {
  sql: string;
  parameters: unknown[];
}

/**
 * The insert of `rows` in `dialect`: from one array per column where the dialect takes them
 * (`StoreDialect#columnArrays`: the text is then the same for any number of rows), else a
 * multi-row `values` list (`logInsertSql`). Either way a row whose idempotency key is stored is
 * skipped, and a row whose pass is gone fails the statement.
 */
export function logInsert(
  dialect: StoreDialect,
  table: string,
  rows: readonly LogRow[],
): LogInsert {
  if (!dialect.columnArrays) {
    return { sql: logInsertSql(dialect, table, rows.length), parameters: logParameters(rows) };
  }
  const parameters = LOG_COLUMNS.map((column) => rows.map((row) => row[column]));
  return { sql: arrayInsertSql(dialect, table), parameters };
}

const arrayInserts = new Map<string, string>();

/** `insert into <logs> (…) select * from unnest($1::bigint[], …)`, built once per table. */
function arrayInsertSql(dialect: StoreDialect, table: string): string {
  const key = `${dialect.name}:${table}`;
  let text = arrayInserts.get(key);
  if (text === undefined) {
    const columns = LOG_COLUMNS.map(dialect.quoteId).join(", ");
    const arrays = LOG_COLUMNS.map(
      (column, index) => `${dialect.placeholder(index + 1)}::${LOG_COLUMN_TYPES[column]}[]`,
    ).join(", ");
    text = `insert into ${dialect.quoteId(table)} (${columns}) select * from unnest(${arrays}) ${dialect.skipDuplicate("idempotency_key")}`;
    arrayInserts.set(key, text);
  }
  return text;
}
