import type { Context } from "hono";
import { deleteCookie, getCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { SessionPort } from "../../core/flow.js";

/** What a session port must also do when the adapter owns it: write itself out. */
export interface CommittableSession extends SessionPort {
  commit(): Promise<void>;
}

export interface CookieSessionOptions {
  secret: string;
  cookieName: string;
  /**
   * The app's cookie policy, in seconds: a new stash's cookie lives this long (a pass with
   * `sessionExpiry: null`, a signed-in user); one that ends with the browser (`sessionExpiry: 0`)
   * is refused by the server after this long.
   */
  maxAge: number;
  now: () => Date;
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
 * A session kept entirely in one signed, HttpOnly, SameSite=Lax cookie (Secure on https): no
 * server-side state, so it runs wherever Hono runs. Signed with HMAC-SHA256 (Web Crypto), so a
 * tampered cookie is ignored; its absolute expiry is checked on the server, so a stolen cookie
 * cannot outlive the pass's session lifetime.
 */
export async function cookieSession(
  c: Context,
  options: CookieSessionOptions,
): Promise<CommittableSession> {
  const now = () => options.now().getTime();
  let stash = await readStash(c, options, now());
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
      if (!dirty) return;
      dirty = false;
      const secure = new URL(c.req.url).protocol === "https:";
      if (!stash || Object.keys(stash.data).length === 0) {
        deleteCookie(c, options.cookieName, { path: "/", secure, httpOnly: true, sameSite: "Lax" });
        return;
      }
      await setSignedCookie(c, options.cookieName, encode(stash), options.secret, {
        path: "/",
        httpOnly: true,
        sameSite: "Lax",
        secure,
        // A persistent cookie lasts as long as the server will honour it, and no longer.
        ...(stash.age ? { maxAge: Math.max(1, Math.ceil((stash.exp - now()) / 1000)) } : {}),
      });
    },
  };
}

async function readStash(
  c: Context,
  options: CookieSessionOptions,
  now: number,
): Promise<Stash | null> {
  let value: string | false | undefined;
  try {
    if (!hasCanonicalSignature(getCookie(c, options.cookieName))) return null;
    value = await getSignedCookie(c, options.secret, options.cookieName);
  } catch {
    return null;
  }
  if (!value) return null;
  const stash = decode(value);
  return stash && stash.exp > now ? stash : null;
}

/**
 * Whether the cookie's signature is written the one way `setSignedCookie` writes it. Base64 of a
 * 32-byte HMAC leaves two bits of its last character unused, so `atob` accepts four spellings of
 * each signature: a copy edited there must be refused like any other edited cookie.
 */
function hasCanonicalSignature(raw: string | undefined): boolean {
  if (!raw) return true;
  const signature = raw.slice(raw.lastIndexOf(".") + 1);
  try {
    return btoa(atob(signature)) === signature;
  } catch {
    return false;
  }
}

function encode(stash: Stash): string {
  const bytes = new TextEncoder().encode(JSON.stringify(stash));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decode(value: string): Stash | null {
  try {
    const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
    const parsed = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0))),
    );
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
