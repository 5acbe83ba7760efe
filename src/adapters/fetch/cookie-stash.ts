import { VisitorPassConfigError, VisitorPassError } from "../../core/errors.js";
import type { SessionPort } from "../../core/ports.js";
import { LOGGED_URL_LENGTH } from "../../core/visit-log.js";

/**
 * The stash of one request as a session port, which the adapter writes out at the end: `commit`
 * answers the `Set-Cookie` header value to send (`null`: nothing changed, send none).
 */
export interface StashSession extends SessionPort {
  commit(): Promise<string | null>;
}

export interface CookieStashOptions {
  /** The app's secret, from which the stash's encryption key is derived. */
  secret: string;
  /** The cookie's name on http; on https it is `__Host-` and this. */
  cookieName: string;
  /**
   * The app's cookie policy, in seconds: a new stash's cookie lives this long (a pass with
   * `sessionExpiry: null`, a signed-in user); one that ends with the browser (`sessionExpiry: 0`)
   * is refused by the server after this long.
   */
  maxAge: number;
  /** Whether the cookie is https-only (`__Host-`); `undefined` follows the request's URL. */
  secure: boolean | undefined;
  /**
   * Keys whose values the stash may shorten, or leave out, to keep its cookie within what
   * browsers accept (the landing's Referer, carried to the first logged visit): never the others.
   */
  optional: ReadonlySet<string>;
  now: () => Date;
  /** Who is speaking in errors, e.g. `visitorPass() for Hono`. */
  caller: string;
}

/** The stash settings an app gives an adapter; each is checked by `stashOptions`. */
export interface StashSettings {
  secret?: string;
  cookieName?: string;
  maxAge?: number;
  secure?: boolean;
}

const COOKIE_NAME = /^[\w!#$%&'*.^`|~+-]{1,200}$/;

/**
 * The settings of an adapter's cookie stash, checked once at setup (a `VisitorPassConfigError`
 * naming the option), with what the stash may drop to fit taken from the request flow.
 */
export function stashOptions(
  settings: StashSettings,
  flow: { droppableSessionKeys: ReadonlySet<string>; config: { now: () => Date } },
  caller: string,
): CookieStashOptions {
  const { secret, maxAge = 86_400, cookieName = "visitor_pass", secure } = settings;
  if (typeof secret !== "string" || secret.length < 32) {
    throw new VisitorPassConfigError(
      "secret",
      secret === undefined ? undefined : "(hidden)",
      `${caller} needs a secret of at least 32 characters to seal its cookie`,
    );
  }
  if (!(typeof maxAge === "number" && Number.isFinite(maxAge) && maxAge > 0)) {
    throw new VisitorPassConfigError("maxAge", maxAge, "must be a positive number of seconds");
  }
  if (!(typeof cookieName === "string" && COOKIE_NAME.test(cookieName))) {
    throw new VisitorPassConfigError(
      "cookieName",
      cookieName,
      "must be a cookie name token of at most 200 characters",
    );
  }
  if (secure !== undefined && typeof secure !== "boolean") {
    throw new VisitorPassConfigError("secure", secure, "must be true or false");
  }
  return {
    secret,
    cookieName,
    maxAge,
    secure,
    optional: flow.droppableSessionKeys,
    now: flow.config.now,
    caller,
  };
}

/** The cookie's content: a session id (for visit logs), the stashed values and an absolute expiry. */
interface Stash {
  sid: string;
  data: Record<string, string>;
  /** Epoch milliseconds after which the server ignores the cookie, whatever the browser does. */
  exp: number;
  /** Lifetime of the cookie in seconds when it was set; absent for one that ends with the browser. */
  age?: number;
}

/**
 * The longest `Set-Cookie` header line, name, value and attributes, that the stash writes:
 * browsers drop a cookie of 4,096 bytes or more (Chromium counts name and value), and with it the
 * visitor whose one-use link was just spent.
 */
const MAX_SET_COOKIE_LINE = 4095;
const HEADER_NAME = "Set-Cookie: ";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Fixed labels for HKDF: they tie the derived key to this one use of the app's secret. */
const HKDF_SALT = new TextEncoder().encode("visitor-pass");
// The label names the format's first user; it stays, so cookies sealed before keep opening.
const HKDF_INFO = new TextEncoder().encode("hono cookie stash, AES-256-GCM, v1");
/** Browsers cap a cookie's lifetime at 400 days; a longer `Max-Age` is cut to it. */
const MAX_COOKIE_AGE = 34_560_000;

/**
 * Sessions kept entirely in one cookie per visitor: no server-side state, so they run wherever
 * Web `Request`s do. The cookie is sealed with AES-256-GCM (Web Crypto, a random IV for each seal) under
 * a key derived from the app's secret with HKDF-SHA256, so it reveals nothing of what it holds
 * and a cookie changed in any way is ignored. Its absolute expiry is checked on the server, so a
 * stolen cookie cannot outlive the pass's session lifetime. HttpOnly, SameSite=Lax, and on https
 * `__Host-` prefixed and Secure.
 */
export function cookieStash(
  options: CookieStashOptions,
): (request: Request) => Promise<StashSession> {
  let key: Promise<CryptoKey> | undefined;
  const keyOf = () => {
    key ??= deriveKey(options.secret);
    return key;
  };
  return (request) => cookieSession(request, options, keyOf);
}

async function cookieSession(
  request: Request,
  options: CookieStashOptions,
  keyOf: () => Promise<CryptoKey>,
): Promise<StashSession> {
  const now = () => options.now().getTime();
  const secure = options.secure ?? request.url.startsWith("https:");
  const name = secure ? `__Host-${options.cookieName}` : options.cookieName;
  let stash = await readStash(cookieOf(request, name), name, keyOf, now());
  let dirty = false;
  const fresh = (): Stash => ({
    sid: crypto.randomUUID(),
    data: {},
    exp: now() + options.maxAge * 1000,
    age: options.maxAge,
  });
  const touch = () => {
    stash ??= fresh();
    dirty = true;
    return stash;
  };
  const cookie = (value: string, maxAge: number | undefined) =>
    `${name}=${value}${maxAge === undefined ? "" : `; Max-Age=${Math.min(maxAge, MAX_COOKIE_AGE)}`}` +
    `; Path=/; HttpOnly${secure ? "; Secure" : ""}; SameSite=Lax`;
  return {
    get id() {
      return stash?.sid ?? null;
    },
    get: (key) => stash?.data[key],
    set: (key, value) => {
      touch().data[key] = value;
    },
    delete: (key) => {
      if (stash && key in stash.data) {
        delete stash.data[key];
        dirty = true;
      }
    },
    setCookieLifetime: (seconds) => {
      const current = touch();
      current.age = seconds > 0 ? seconds : undefined;
      current.exp = now() + (seconds > 0 ? seconds : options.maxAge) * 1000;
    },
    regenerate: async () => {
      const previous = stash;
      stash = { ...fresh(), data: { ...previous?.data } };
      dirty = true;
    },
    commit: async () => {
      if (!dirty) return null;
      dirty = false;
      if (!stash || Object.keys(stash.data).length === 0) return cookie("", 0);
      // A persistent cookie lasts as long as the server will honour it, and no longer.
      const maxAge = stash.age ? Math.max(1, Math.ceil((stash.exp - now()) / 1000)) : undefined;
      const room = MAX_SET_COOKIE_LINE - HEADER_NAME.length - cookie("", maxAge).length;
      // Unpadded base64url of n bytes takes ceil(4n / 3) characters.
      const plain = fitted(
        stash,
        options.optional,
        Math.floor((room * 3) / 4) - IV_BYTES - TAG_BYTES,
        options.caller,
      );
      return cookie(await seal(await keyOf(), name, plain), maxAge);
    },
  };
}

/**
 * The first well-formed value of cookie `name` in the request's `Cookie` header. Only base64url
 * is ever written, so nothing needs decoding; anything else fails to unseal.
 */
function cookieOf(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (!header?.includes(name)) return undefined;
  for (const pair of header.split(";")) {
    const at = pair.indexOf("=");
    if (at === -1 || pair.slice(0, at).trim() !== name) continue;
    let value = pair.slice(at + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    if (/^[ !#-:<-[\]-~]*$/.test(value)) return value;
  }
  return undefined;
}

async function readStash(
  raw: string | undefined,
  name: string,
  keyOf: () => Promise<CryptoKey>,
  now: number,
): Promise<Stash | null> {
  if (!raw) return null;
  const plain = await unseal(await keyOf(), name, raw);
  const stash = plain && decode(plain);
  return stash && stash.exp > now ? stash : null;
}

/**
 * The stash as JSON in at most `room` bytes: optional values are clipped to what the visit log
 * would keep, then shortened or left out until the rest fits. The other values are never cut.
 */
function fitted(
  stash: Stash,
  optional: ReadonlySet<string>,
  room: number,
  caller: string,
): Uint8Array<ArrayBuffer> {
  const data: Record<string, string> = {};
  const carried: [string, string][] = [];
  for (const [key, value] of Object.entries(stash.data)) {
    if (optional.has(key)) carried.push([key, value.slice(0, LOGGED_URL_LENGTH)]);
    else data[key] = value;
  }
  const encodeWith = (extra: Record<string, string>) =>
    encoder.encode(JSON.stringify({ ...stash, data: { ...data, ...extra } }));
  let bytes = encodeWith(Object.fromEntries(carried));
  if (bytes.length <= room) return bytes;
  bytes = encodeWith({});
  if (bytes.length > room) {
    throw new VisitorPassError(
      `${caller} cannot fit its stash in one cookie of 4,096 bytes: shorten cookieName or sessionKey.`,
      "VISITOR_PASS_SETUP",
    );
  }
  for (const [key, value] of carried) {
    // The longest prefix that still fits, found by halving: only a landing with a long Referer
    // ever gets here.
    let low = 0;
    let high = value.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (encodeWith({ [key]: value.slice(0, mid) }).length <= room) low = mid;
      else high = mid - 1;
    }
    if (low > 0) {
      data[key] = value.slice(0, low);
      bytes = encodeWith({});
    }
  }
  return bytes;
}

const encoder = new TextEncoder();

async function deriveKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: HKDF_INFO },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/**
 * `base64url(iv ‖ ciphertext ‖ tag)`; the cookie's name is authenticated with it, so a value moved
 * to another cookie name (the http one, another app's) is refused.
 */
async function seal(key: CryptoKey, name: string, plain: Uint8Array<ArrayBuffer>): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(name) },
    key,
    plain,
  );
  const bytes = new Uint8Array(IV_BYTES + sealed.byteLength);
  bytes.set(iv);
  bytes.set(new Uint8Array(sealed), IV_BYTES);
  return toBase64Url(bytes);
}

async function unseal(key: CryptoKey, name: string, value: string): Promise<Uint8Array | null> {
  // No stash this package writes is longer; anything longer is refused before any work.
  if (value.length > MAX_SET_COOKIE_LINE) return null;
  const bytes = fromBase64Url(value);
  if (!bytes || bytes.length <= IV_BYTES + TAG_BYTES) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES), additionalData: encoder.encode(name) },
      key,
      bytes.subarray(IV_BYTES),
    );
    return new Uint8Array(plain);
  } catch {
    return null;
  }
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The bytes of `value` when it is base64url written the one way `toBase64Url` writes it: the last
 * digit can carry bits the decoder ignores, and a copy edited there must be refused like any
 * other edited cookie.
 */
function fromBase64Url(value: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return null;
  try {
    const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    return toBase64Url(bytes) === value ? bytes : null;
  } catch {
    return null;
  }
}

function decode(plain: Uint8Array): Stash | null {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(plain));
    const valid =
      typeof parsed === "object" &&
      parsed !== null &&
      typeof parsed.sid === "string" &&
      typeof parsed.exp === "number" &&
      typeof parsed.data === "object" &&
      parsed.data !== null &&
      Object.values(parsed.data).every((item) => typeof item === "string");
    return valid ? (parsed as Stash) : null;
  } catch {
    return null;
  }
}
