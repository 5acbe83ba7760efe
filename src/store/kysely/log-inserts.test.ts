import { describe, expect, it } from "vitest";
import { MYSQL, POSTGRES, SQLITE } from "./dialects.js";
import { LOG_COLUMNS, logInsertSql, logParameters, logRow } from "./log-inserts.js";

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
});
