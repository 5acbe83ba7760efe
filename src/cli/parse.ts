import { InvalidArgumentError } from "commander";

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
const DURATION = /^(?:\d+[smhdw])+$/;

/**
 * Seconds in a duration such as `30s`, `15m`, `2h`, `7d`, `1w` or `1h30m`. Throws a plain `Error`
 * with a message fit for the user.
 */
export function parseDuration(text: string): number {
  const value = text.trim().toLowerCase();
  if (!DURATION.test(value)) {
    throw new Error(
      `"${text}" is not a duration; use a whole number and a unit (s, m, h, d or w), e.g. 30s, 15m, 2h, 7d or 1w.`,
    );
  }
  let seconds = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)([smhdw])/g)) {
    seconds += Number(amount) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
  }
  if (!Number.isSafeInteger(seconds)) throw new Error(`"${text}" is too long a duration.`);
  return seconds;
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO 8601 date (`2026-01-01`, midnight UTC) or date and time (`2026-01-01T09:30`, local time
 * unless it ends in `Z` or an offset). Anything else, or a day that does not exist, throws.
 */
export function parseDate(text: string): Date {
  const value = text.trim();
  const match = ISO_DATE.exec(value);
  const fail = () =>
    new Error(
      `"${text}" is not a date; use an ISO date or date and time, e.g. 2026-01-01 or 2026-01-01T09:30:00Z.`,
    );
  if (!match) throw fail();
  const [, year, month, day, hour = "0", minute = "0", second = "0"] = match;
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (
    calendar.getUTCFullYear() !== Number(year) ||
    calendar.getUTCMonth() !== Number(month) - 1 ||
    calendar.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    throw fail();
  }
  const offset = match[7];
  const normalised = value
    .replace(" ", "T")
    .replace(/([+-]\d{2})(\d{2})$/, offset && !offset.includes(":") ? "$1:$2" : "$&");
  const date = new Date(normalised);
  if (Number.isNaN(date.getTime())) throw fail();
  return date;
}

/** A whole number, possibly negative (the core checks the range and names the option). */
export function parseInteger(text: string): number {
  const value = text.trim();
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new Error(`"${text}" is not a whole number.`);
  }
  return Number(value);
}

/** Seconds of a session: a whole number of seconds, a duration, or `null` (the app's policy). */
export function parseSessionExpiry(text: string): number | null {
  const value = text.trim().toLowerCase();
  if (value === "null" || value === "none") return null;
  if (/^\d+$/.test(value)) return parseInteger(value);
  try {
    return parseDuration(value);
  } catch {
    throw new Error(
      `"${text}" is not a session expiry; use seconds, a duration such as 2h, 0 (until the browser closes) or null (the app's own policy).`,
    );
  }
}

/** A JSON value; the core says whether it is the right shape. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`Not valid JSON (${(error as Error).message}).`);
  }
}

/** Adapts a parser for commander: its errors become commander's "argument … is invalid" (exit 2). */
export function option<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}
