import type { Selectable } from "kysely";
import type { VisitorLog } from "../../core/visitor.js";
import type { LogEntry, LogSearch } from "../store.js";
import { matchesNothing, type SqlTables, type VisitorLogRow } from "./schema.js";

/**
 * The visit logs of every pass, filtered, newest first, one page at a time (`searchLogs`): the
 * admin's visit-log list. One query. The order (`timestamp`, then `id`) is the logs' timestamp
 * index, which every database keeps with the row id, so a page reads about `limit` rows of it
 * whatever the table's size; a named pass goes through its own (visitor_id, timestamp) index.
 * Paging is by keyset (`before`), never by offset, so page 1000 costs what page 1 does.
 */
export async function searchLogs(
  { db, dialect, t }: SqlTables,
  search: LogSearch,
): Promise<LogEntry[]> {
  if (matchesNothing(search.scope) || matchesNothing(search.email)) return [];
  const logs = db.selectFrom(`${t.logs} as l` as "visitor_logs as l");
  const visitors = `${t.visitors} as v` as "visitors as v";
  // Filtered by scope alone, the page is read from the logs' timestamp index, newest first, each
  // log's pass looked up by its id: a scope may hold any number of passes, and starting from them
  // would sort all their logs. A cross join with the join condition in the where clause is what
  // keeps SQLite's planner to that order (PostgreSQL and MySQL treat it as the inner join it is).
  // Narrowed to one pass or one email, starting from the passes is the short way, left to the
  // planner.
  const byTime =
    search.scope !== undefined && search.visitorId === undefined && search.email === undefined;
  let query = (
    byTime
      ? logs.crossJoin(visitors).whereRef("v.id", "=", "l.visitor_id")
      : logs.innerJoin(visitors, "v.id", "l.visitor_id")
  )
    .selectAll("l")
    .select(["v.email as pass_email", "v.scope as pass_scope"]);
  if (search.visitorId !== undefined) query = query.where("l.visitor_id", "=", search.visitorId);
  if (search.scope !== undefined) {
    query = query.where("v.scope", "=", search.scope);
    if (dialect.exactly) query = query.where(dialect.exactly("v.scope", search.scope));
  }
  if (search.email !== undefined) {
    query = query.where("v.email", "=", search.email);
    if (dialect.exactly) query = query.where(dialect.exactly("v.email", search.email));
  }
  if (search.from !== undefined) query = query.where("l.timestamp", ">=", search.from.getTime());
  if (search.to !== undefined) query = query.where("l.timestamp", "<", search.to.getTime());
  if (search.statusCode !== undefined) {
    query = query.where("l.status_code", "=", search.statusCode);
  }
  if (search.before !== undefined) {
    const at = search.before.timestamp.getTime();
    const id = search.before.id;
    // The first condition alone is what the index range is read from.
    query = query
      .where("l.timestamp", "<=", at)
      .where((eb) =>
        eb.or([
          eb("l.timestamp", "<", at),
          eb.and([eb("l.timestamp", "=", at), eb("l.id", "<", id)]),
        ]),
      );
  }
  const rows = await query
    .orderBy("l.timestamp", "desc")
    .orderBy("l.id", "desc")
    .limit(search.limit)
    .execute();
  return rows.map((row) => {
    const { pass_email, pass_scope, ...log } = row as Selectable<VisitorLogRow> & {
      pass_email: string;
      pass_scope: string;
    };
    return { ...toLog(log), email: pass_email, scope: pass_scope };
  });
}

/** A visit log row as a `VisitorLog`. */
export function toLog(row: Selectable<VisitorLogRow>): VisitorLog {
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
