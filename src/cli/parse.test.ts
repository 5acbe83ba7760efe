import { describe, expect, it } from "vitest";
import { parseDate, parseDuration, parseInteger, parseJson, parseSessionExpiry } from "./parse.js";

describe("parseDuration", () => {
  it.each([
    ["30s", 30],
    ["15m", 900],
    ["2h", 7200],
    ["7d", 604_800],
    ["1w", 604_800],
    ["1h30m", 5400],
    [" 2H ", 7200],
    ["0s", 0],
  ])("%s is %i seconds", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(["", "7", "7x", "d7", "1.5h", "-1d", "7 days", "1h 30m"])(
    "rejects %j clearly",
    (text) => {
      expect(() => parseDuration(text)).toThrow(/is not a duration; use a whole number and a unit/);
    },
  );

  it("rejects a duration too long to count", () => {
    expect(() => parseDuration("99999999999999999999w")).toThrow(/too long/);
  });
});

describe("parseDate", () => {
  it("reads a date as midnight UTC", () => {
    expect(parseDate("2026-01-01").toISOString()).toBe("2026-01-01T00:00:00.000Z");
  });

  it("reads a date and time with an offset or Z", () => {
    expect(parseDate("2026-01-01T09:30:00Z").toISOString()).toBe("2026-01-01T09:30:00.000Z");
    expect(parseDate("2026-01-01 09:30Z").toISOString()).toBe("2026-01-01T09:30:00.000Z");
    expect(parseDate("2026-01-01T09:30:00+0200").toISOString()).toBe("2026-01-01T07:30:00.000Z");
    expect(parseDate("2026-01-01T09:30:00.250-01:00").toISOString()).toBe(
      "2026-01-01T10:30:00.250Z",
    );
  });

  it("reads a date and time without an offset as local time", () => {
    expect(parseDate("2026-06-01T09:30").getTime()).toBe(new Date(2026, 5, 1, 9, 30).getTime());
  });

  it.each(["", "tomorrow", "2026-02-30", "2026-13-01", "2026-01-01T25:00", "01/02/2026", "1"])(
    "rejects %j",
    (text) => {
      expect(() => parseDate(text)).toThrow(/is not a date; use an ISO date/);
    },
  );
});

describe("other parsers", () => {
  it("parseInteger takes whole numbers only", () => {
    expect(parseInteger("3")).toBe(3);
    expect(parseInteger("-1")).toBe(-1);
    expect(() => parseInteger("3.5")).toThrow(/not a whole number/);
    expect(() => parseInteger("three")).toThrow(/not a whole number/);
  });

  it("parseSessionExpiry takes seconds, durations and null", () => {
    expect(parseSessionExpiry("0")).toBe(0);
    expect(parseSessionExpiry("3600")).toBe(3600);
    expect(parseSessionExpiry("2h")).toBe(7200);
    expect(parseSessionExpiry("null")).toBeNull();
    expect(() => parseSessionExpiry("soon")).toThrow(/not a session expiry/);
  });

  it("parseJson says why the text is not JSON", () => {
    expect(parseJson('{"a":1}')).toEqual({ a: 1 });
    expect(() => parseJson("{a")).toThrow(/^Not valid JSON/);
  });
});
