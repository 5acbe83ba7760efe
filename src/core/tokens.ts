import { MalformedVisitorToken } from "./errors.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && value.length === 36 && UUID.test(value);
}

/** The canonical (lower-case) form of a token, or `MalformedVisitorToken`. */
export function parseToken(value: unknown): string {
  if (!isUuid(value)) throw new MalformedVisitorToken();
  return value.toLowerCase();
}

function splitUrl(url: string): { base: string; query: string | null; fragment: string } {
  const hash = url.indexOf("#");
  const fragment = hash === -1 ? "" : url.slice(hash);
  const rest = hash === -1 ? url : url.slice(0, hash);
  const mark = rest.indexOf("?");
  if (mark === -1) return { base: rest, query: null, fragment };
  return { base: rest.slice(0, mark), query: rest.slice(mark + 1), fragment };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "));
  } catch {
    return part;
  }
}

function keyOf(pair: string): string {
  const eq = pair.indexOf("=");
  return decode(eq === -1 ? pair : pair.slice(0, eq));
}

function paramValue(pair: string): string {
  const eq = pair.indexOf("=");
  return eq === -1 ? "" : decode(pair.slice(eq + 1));
}

/**
 * The token carried by a request URL under `key`: `null` when there is none, the canonical uuid
 * when there is one, `MalformedVisitorToken` when the value is not a uuid or the parameter is
 * repeated with different values.
 */
export function readToken(url: string, key: string): string | null {
  if (!url.includes("?")) return null; // most requests: no query string at all
  const { query } = splitUrl(url);
  if (query === null || query === "") return null;
  let token: string | null = null;
  for (const pair of query.split("&")) {
    if (keyOf(pair) !== key) continue;
    const value = parseToken(paramValue(pair));
    if (token !== null && token !== value) throw new MalformedVisitorToken();
    token = value;
  }
  return token;
}

/** Whether the query string of `url` has a `key` parameter. */
export function hasParam(url: string, key: string): boolean {
  const { query } = splitUrl(url);
  return (query ?? "").split("&").some((pair) => keyOf(pair) === key);
}

/** The query string of `url` (without `?`) with every `key` parameter removed, other bytes kept. */
export function queryWithout(url: string, key: string): string {
  if (!url.includes("?")) return "";
  const { query } = splitUrl(url);
  if (!query) return "";
  return query
    .split("&")
    .filter((pair) => pair !== "" && keyOf(pair) !== key)
    .join("&");
}

/**
 * Whether a request target is a path (the origin form, RFC 9112 §3.2.1), as browsers send to a
 * server; not `*` (the asterisk form of `OPTIONS *`) nor an absolute URL (the absolute form a
 * proxy-style client sends), which session middlewares pass by without a session.
 */
export function isOriginForm(target: string): boolean {
  return target.charCodeAt(0) === 47; // "/"
}

/** A scheme and an authority at the start of an absolute-form target: `http://host:port`. */
const SCHEME_AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/** `target` without the scheme and authority of an absolute-form target; others as they are. */
function withoutOrigin(target: string): string {
  const match = SCHEME_AUTHORITY.exec(target);
  return match ? target.slice(match[0].length) : target;
}

/** The path part of a request URL (no query, no fragment; no scheme or host in absolute form). */
export function pathOf(url: string): string {
  const target = isOriginForm(url) ? url : withoutOrigin(url);
  if (!target.includes("?") && !target.includes("#")) return target;
  return splitUrl(target).base;
}

/** `url` without any `key` parameter; every other part, including the fragment, kept as it was. */
export function stripToken(url: string, key: string): string {
  const { base, fragment } = splitUrl(url);
  const query = queryWithout(url, key);
  return `${base}${query ? `?${query}` : ""}${fragment}`;
}

/** `url` carrying `?key=uuid`, replacing any existing one, every other part kept (relative too). */
export function addToken(url: string, key: string, uuid: string): string {
  const { base, fragment } = splitUrl(url);
  const query = queryWithout(url, key);
  const param = `${encodeURIComponent(key)}=${uuid}`;
  return `${base}?${query ? `${query}&` : ""}${param}${fragment}`;
}

/**
 * `url` as a path on this site, safe to redirect to: control characters removed, the scheme and
 * host of an absolute-form request target dropped, and leading slashes or backslashes collapsed
 * into one, so `//evil.example/` cannot become another host.
 */
export function localPath(url: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const path = withoutOrigin(url.replace(/[\u0000-\u001f\u007f]/g, ""));
  return `/${path.replace(/^[/\\]+/, "")}`;
}
