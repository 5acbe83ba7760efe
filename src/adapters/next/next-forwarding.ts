import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { VisitorPassError } from "../../core/errors.js";

/**
 * What the proxy tells the code after it of the request: its method and URL (without a token),
 * which a Server Component cannot see, and a proof that the proxy wrote them.
 */
const REQUEST_HEADER = "x-visitor-pass-request";
const PROOF_HEADER = "x-visitor-pass-proof";
const KEY = Symbol.for("visitor-pass.next.forwarding-key");
/** Marks a forwarded request for which the proxy found the store failing. */
const UNAVAILABLE = "unavailable";

/**
 * The key of the proof: derived from the app's secret, so that a proxy and pages served by
 * different processes agree on it; without one (a session of the app's), one key per server
 * process, shared by its bundles. Only this app's proxy can have written a request header the
 * client could otherwise send itself.
 */
export function forwardingKey(secret: string | undefined): Buffer {
  if (secret !== undefined) {
    return Buffer.from(hkdfSync("sha256", secret, "visitor-pass", "next proxy forwarding, v1", 32));
  }
  const global = globalThis as { [KEY]?: Buffer };
  global[KEY] ??= randomBytes(32);
  return global[KEY];
}

function proof(key: Buffer, value: string): Buffer {
  return createHmac("sha256", key).update(value).digest();
}

/**
 * The request's headers for the code after the proxy: its method and `url`, proven, and its
 * `Cookie` header with the cookies the proxy `set` (an emptied one removed).
 */
export function forwardingHeaders(
  key: Buffer,
  request: Request,
  url: string,
  set: { name: string; value: string }[],
  unavailable = false,
): Headers {
  const forwarded = new Headers(request.headers);
  if (set.length > 0) {
    const jar = new Map<string, string>();
    for (const pair of (request.headers.get("cookie") ?? "").split(";")) {
      const at = pair.indexOf("=");
      if (at > 0) jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    for (const { name, value } of set) {
      if (value === "") jar.delete(name);
      else jar.set(name, value);
    }
    const header = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
    if (header === "") forwarded.delete("cookie");
    else forwarded.set("cookie", header);
  }
  // A URL has no spaces: the store's failure, if the proxy met one, follows the URL after one.
  const value = `${request.method.toUpperCase()} ${withoutRscKey(url)}${unavailable ? ` ${UNAVAILABLE}` : ""}`;
  forwarded.set(REQUEST_HEADER, value);
  forwarded.set(PROOF_HEADER, proof(key, value).toString("base64url"));
  return forwarded;
}

/**
 * The request as the proxy forwarded it, with the cookies as Next has them now (those the proxy
 * set included), as a Web `Request`; a clear error when no proxy of this server ran before.
 */
export function forwardedRequest(
  key: Buffer,
  incoming: Headers,
  cookies: { name: string; value: string }[],
  caller: string,
): Request {
  const value = incoming.get(REQUEST_HEADER);
  const given = Buffer.from(incoming.get(PROOF_HEADER) ?? "", "base64url");
  const space = value?.indexOf(" ") ?? -1;
  if (value == null || space < 1 || !sameProof(given, proof(key, value))) {
    throw new VisitorPassError(
      `${caller} needs the visitor-pass proxy to have run on this request: export it from proxy.ts, with a matcher that covers this path.`,
      "VISITOR_PASS_SETUP",
    );
  }
  const headers = new Headers(incoming);
  headers.delete(REQUEST_HEADER);
  headers.delete(PROOF_HEADER);
  headers.set("cookie", cookies.map(({ name, value }) => `${name}=${value}`).join("; "));
  const [url] = value.slice(space + 1).split(" ");
  return new Request(url!, { method: value.slice(0, space), headers });
}

/** Whether the proxy found the store failing for this (proven) forwarded request. */
export function forwardedUnavailable(incoming: Headers): boolean {
  return (incoming.get(REQUEST_HEADER) ?? "").endsWith(` ${UNAVAILABLE}`);
}

/**
 * The URL the proxy forwarded for this request (without a token), or `null` when no proxy of
 * this server ran before: a route handler then sees the request as the client sent it.
 */
export function proxiedUrl(key: Buffer, incoming: Headers): string | null {
  const value = incoming.get(REQUEST_HEADER);
  const given = Buffer.from(incoming.get(PROOF_HEADER) ?? "", "base64url");
  const space = value?.indexOf(" ") ?? -1;
  if (value == null || space < 1 || !sameProof(given, proof(key, value))) return null;
  return value.slice(space + 1).split(" ")[0]!;
}

/**
 * `url` without the `_rsc` parameter Next adds to its client's requests for a page's data (a
 * cache key, not the app's query), which would otherwise fill visit logs.
 */
function withoutRscKey(url: string): string {
  if (!url.includes("_rsc=")) return url;
  const parsed = new URL(url);
  parsed.searchParams.delete("_rsc");
  return parsed.href;
}

function sameProof(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
