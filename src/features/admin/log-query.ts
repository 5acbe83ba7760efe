import { queryString } from "./admin-query.js";

/** The filters of the visit-log list, as its query string carries them. */
export interface LogParams {
  scope: string;
  /** A pass id (digits) or an email; never a token, which would reach every request log. */
  pass: string;
  /** UTC days, `YYYY-MM-DD`, both included. */
  from: string;
  to: string;
  status: string;
  /** Where the page starts (the `next` of the page before), or "". */
  before: string;
}

export type ParsedLogs =
  | {
      ok: true;
      params: LogParams;
      search: {
        scope?: string;
        visitorId?: number;
        email?: string;
        from?: Date;
        to?: Date;
        statusCode?: number;
        before?: string;
      };
    }
  | { ok: false; errors: string[] };

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const PASS_ID = /^[1-9][0-9]{0,9}$/;
const CURSOR = /^\d{1,15}-[1-9][0-9]{0,9}$/;
const DAY_MS = 86_400_000;

function text(query: URLSearchParams, name: string): string {
  return (query.get(name) ?? "").trim();
}

/** Midnight UTC of `value` (`YYYY-MM-DD`), or `null` when it is no real day. */
function day(value: string): Date | null {
  const match = DAY.exec(value);
  if (!match) return null;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  const real =
    date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  return real && y >= 1970 ? date : null;
}

/**
 * The visit-log list's filters from its query string: each bad value is named (the page answers
 * 400 with them), never passed on to the store.
 */
export function parseLogParams(query: URLSearchParams): ParsedLogs {
  const errors: string[] = [];
  const params: LogParams = {
    scope: text(query, "scope"),
    pass: text(query, "pass"),
    from: text(query, "from"),
    to: text(query, "to"),
    status: text(query, "status"),
    before: text(query, "before"),
  };
  const search: Extract<ParsedLogs, { ok: true }>["search"] = {};
  if (params.scope.length > 100) errors.push("Scope must be at most 100 characters.");
  else if (params.scope) search.scope = params.scope;
  if (params.pass) {
    if (PASS_ID.test(params.pass) && Number(params.pass) <= 2_147_483_647) {
      search.visitorId = Number(params.pass);
    } else if (params.pass.includes("@") && params.pass.length <= 254) {
      search.email = params.pass;
    } else {
      errors.push(
        "Pass must be a pass id (shown on its page) or an email address; a link's token never goes in a URL here.",
      );
    }
  }
  const from = params.from ? day(params.from) : null;
  if (params.from && !from) errors.push("From must be a date, YYYY-MM-DD.");
  if (from) search.from = from;
  const to = params.to ? day(params.to) : null;
  if (params.to && !to) errors.push("To must be a date, YYYY-MM-DD.");
  // The whole of the last day.
  if (to) search.to = new Date(to.getTime() + DAY_MS);
  if (from && to && from > to) errors.push("From must not be after To.");
  if (params.status) {
    const status = /^\d{3}$/.test(params.status) ? Number(params.status) : Number.NaN;
    if (!(status >= 100 && status <= 599))
      errors.push("Status must be an HTTP status, 100 to 599.");
    else search.statusCode = status;
  }
  if (params.before) {
    if (!CURSOR.test(params.before)) errors.push("This page link is not valid: start again.");
    else search.before = params.before;
  }
  return errors.length ? { ok: false, errors } : { ok: true, params, search };
}

/** The query string (with `?`, or "") of the visit-log list with these filters and `changes`. */
export function logQuery(params: LogParams, changes: Partial<LogParams> = {}): string {
  const p = { ...params, ...changes };
  return queryString({
    scope: p.scope,
    pass: p.pass,
    from: p.from,
    to: p.to,
    status: p.status,
    before: p.before,
  });
}
