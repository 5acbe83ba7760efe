/** The filters of the pass list, as its query string carries them. */
export interface ListParams {
  q: string;
  scope: string;
  active: boolean | undefined;
  valid: boolean | undefined;
  promoted: boolean | undefined;
  page: number;
}

/** The filters of the sharing report. */
export interface SharingParams {
  scope: string;
  flagged: boolean;
  page: number;
}

export type Parsed<T> = { ok: true; params: T } | { ok: false; errors: string[] };

/** The highest page number anyone can ask for: far beyond any real list, short of overflow. */
const MAX_PAGE = 100_000;
const MAX_SEARCH = 200;
const MAX_SCOPE = 100;

const YES = new Set(["yes", "true", "1", "on"]);
const NO = new Set(["no", "false", "0", "off"]);

function text(query: URLSearchParams, name: string): string {
  return (query.get(name) ?? "").trim();
}

function triState(
  query: URLSearchParams,
  name: string,
  label: string,
  errors: string[],
): boolean | undefined {
  const value = text(query, name).toLowerCase();
  if (value === "" || value === "any") return undefined;
  if (YES.has(value)) return true;
  if (NO.has(value)) return false;
  errors.push(`${label} must be "yes", "no" or empty.`);
  return undefined;
}

function pageNumber(query: URLSearchParams, errors: string[]): number {
  const value = text(query, "page");
  if (value === "") return 1;
  const page = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(page) || page < 1 || page > MAX_PAGE) {
    errors.push(`Page must be a whole number from 1 to ${MAX_PAGE}.`);
    return 1;
  }
  return page;
}

function limited(
  query: URLSearchParams,
  name: string,
  label: string,
  max: number,
  errors: string[],
) {
  const value = text(query, name);
  if (value.length > max) errors.push(`${label} must be at most ${max} characters.`);
  return value;
}

export function parseListParams(query: URLSearchParams): Parsed<ListParams> {
  const errors: string[] = [];
  const params: ListParams = {
    q: limited(query, "q", "Search", MAX_SEARCH, errors),
    scope: limited(query, "scope", "Scope", MAX_SCOPE, errors),
    active: triState(query, "active", "Active", errors),
    valid: triState(query, "valid", "Valid", errors),
    promoted: triState(query, "promoted", "Promoted", errors),
    page: pageNumber(query, errors),
  };
  return errors.length ? { ok: false, errors } : { ok: true, params };
}

export function parseSharingParams(query: URLSearchParams): Parsed<SharingParams> {
  const errors: string[] = [];
  const params: SharingParams = {
    scope: limited(query, "scope", "Scope", MAX_SCOPE, errors),
    flagged: triState(query, "flagged", "Flagged", errors) === true,
    page: pageNumber(query, errors),
  };
  return errors.length ? { ok: false, errors } : { ok: true, params };
}

const yesNo = (value: boolean | undefined) =>
  value === undefined ? undefined : value ? "yes" : "no";

/** The query string (with `?`, or "") of the pass list with these filters and `changes`. */
export function listQuery(params: ListParams, changes: Partial<ListParams> = {}): string {
  const p = { ...params, ...changes };
  return queryString({
    q: p.q,
    scope: p.scope,
    active: yesNo(p.active),
    valid: yesNo(p.valid),
    promoted: yesNo(p.promoted),
    page: p.page > 1 ? String(p.page) : undefined,
  });
}

export function sharingQuery(params: SharingParams, changes: Partial<SharingParams> = {}): string {
  const p = { ...params, ...changes };
  return queryString({
    scope: p.scope,
    flagged: p.flagged ? "yes" : undefined,
    page: p.page > 1 ? String(p.page) : undefined,
  });
}

export function queryString(values: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== "") query.set(key, value);
  }
  const string = query.toString();
  return string ? `?${string}` : "";
}

export const DEFAULT_LIST: ListParams = {
  q: "",
  scope: "",
  active: undefined,
  valid: undefined,
  promoted: undefined,
  page: 1,
};
