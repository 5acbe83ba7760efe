import { describe, expect, it } from "vitest";
import { MYSQL, POSTGRES, SQLITE } from "./dialects.js";
import { LOG_COLUMNS, logInsert, logInsertSql, logParameters, logRow } from "./log-inserts.js";

const log = {
  visitorId: 7,
  sessionKey: "s",
  httpMethod: "GET",
  requestUri: "/reference",
  queryString: "",
  httpUserAgent: "Mozilla/5.0",
  httpReferer: null,
  remoteAddr: "203.0.113.9",
  statusCode: 200,
  timestamp: new Date(1_700_000_000_000),
  clientNetwork: "203.0.113.0",
  browserFamily: "firefox",
};

describe("log inserts", () => {
  it("names every column of a log row, once", () => {
    expect([...LOG_COLUMNS].sort()).toEqual(Object.keys(logRow(log)).sort());
  });

  it("gives the parameters row after row, in the order of the columns", () => {
    const other = logRow({ ...log, visitorId: 8, statusCode: 404 });
    const parameters = logParameters([logRow(log), other]);
    expect(parameters).toHaveLength(2 * LOG_COLUMNS.length);
    expect(parameters[LOG_COLUMNS.indexOf("visitor_id")]).toBe(7);
    expect(parameters[LOG_COLUMNS.length + LOG_COLUMNS.indexOf("status_code")]).toBe(404);
    expect(parameters[LOG_COLUMNS.indexOf("timestamp")]).toBe(1_700_000_000_000);
  });

  it("writes each dialect's quoting and placeholders", () => {
    const width = LOG_COLUMNS.length;
    const postgres = logInsertSql(POSTGRES, "p_visitor_logs", 2);
    expect(postgres).toMatch(/^insert into "p_visitor_logs" \("visitor_id", /);
    expect(postgres).toContain(`($${width + 1}, `);
    expect(postgres).toContain(`$${2 * width}) on conflict`);
    const mysql = logInsertSql(MYSQL, "p_visitor_logs", 2);
    expect(mysql).toMatch(/^insert into `p_visitor_logs` \(`visitor_id`, /);
    expect(mysql.match(/\?/g)).toHaveLength(2 * width);
    expect(logInsertSql(SQLITE, "t", 1).match(/\?/g)).toHaveLength(width);
  });

  it("skips a row whose idempotency key is stored, and only that conflict", () => {
    for (const dialect of [POSTGRES, SQLITE]) {
      expect(logInsertSql(dialect, "t", 3)).toMatch(
        /\) on conflict \("idempotency_key"\) do nothing$/,
      );
    }
    const mysql = logInsertSql(MYSQL, "t", 3);
    expect(mysql).toMatch(/\) on duplicate key update `id` = `id`$/);
    expect(mysql).not.toMatch(/ignore/i);
  });

  it("inserts from one array per column on PostgreSQL, with the same text for any number of rows", () => {
    const other = logRow({ ...log, visitorId: 8, httpReferer: 'a "quoted", {braced} \\ referer' });
    const one = logInsert(POSTGRES, "p_visitor_logs", [logRow(log)]);
    const two = logInsert(POSTGRES, "p_visitor_logs", [logRow(log), other]);
    expect(two.sql).toBe(one.sql);
    expect(two.sql).toMatch(
      /^insert into "p_visitor_logs" \("visitor_id", .*\) select \* from unnest\(\$1::bigint\[\], \$2::text\[\], /,
    );
    expect(two.sql).toContain(`$${LOG_COLUMNS.length}::text[])`);
    expect(two.sql).toMatch(/\) on conflict \("idempotency_key"\) do nothing$/);
    expect(two.parameters).toHaveLength(LOG_COLUMNS.length);
    expect(two.parameters[LOG_COLUMNS.indexOf("visitor_id")]).toEqual([7, 8]);
    expect(two.parameters[LOG_COLUMNS.indexOf("http_referer")]).toEqual([null, other.http_referer]);
  });

  it("keeps a values list where the dialect takes no column arrays", () => {
    for (const dialect of [MYSQL, SQLITE]) {
      const insert = logInsert(dialect, "t", [logRow(log), logRow(log)]);
      expect(insert.sql).toBe(logInsertSql(dialect, "t", 2));
      expect(insert.parameters).toEqual(logParameters([logRow(log), logRow(log)]));
    }
  });
});
