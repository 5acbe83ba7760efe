import { createHmac, randomUUID } from "node:crypto";
import type { Context } from "hono";
import { Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { Cookie } from "tough-cookie";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { userIsVisitor, visitorPass } from "../../src/adapters/hono/index.js";
import { type SessionPort, type VisitorPass, VisitorPassConfigError } from "../../src/index.js";
import { openPasses } from "../support/databases.js";
import { Client, setCookies } from "./client.js";
import type { RunningApp } from "./harness.js";
import { APP_COOKIE_MAX_AGE } from "./harness.js";
import { buildHonoApp, HONO_SECRET, honoHarness, STASH_COOKIE, serveHono } from "./hono-harness.js";
import { Clock, click, newPass, SQLITE, useApp, whoami } from "./support.js";

/** A stash cookie value as the adapter writes it: base64url JSON, a dot, HMAC-SHA256 in base64. */
function stashValue(
  stash: { sid: string; data: Record<string, string>; exp: number; age?: number },
  secret = HONO_SECRET,
): string {
  const payload = Buffer.from(JSON.stringify(stash)).toString("base64url");
  const signature = createHmac("sha256", secret).update(payload).digest("base64");
  return `${payload}.${signature}`;
}

function cookieHeader(value: string): { headers: { cookie: string } } {
  return { headers: { cookie: `${STASH_COOKIE}=${encodeURIComponent(value)}` } };
}

function stashCookieOf(response: Response): Cookie | undefined {
  return setCookies(response)
    .map((header) => Cookie.parse(header))
    .find((cookie) => cookie?.key === STASH_COOKIE);
}

/** What is Hono's own: the signed cookie stash, its setup checks, a plugged-in session. */
describe("hono: the signed cookie stash", () => {
  const ctx = useApp(honoHarness, SQLITE);

  it("is HttpOnly, SameSite=Lax, Path=/, and Secure on https only", async () => {
    const app = buildHonoApp(ctx.passes);
    for (const [origin, secure] of [
      ["https://example.org", true],
      ["http://example.org", false],
    ] as const) {
      const visitor = await newPass(ctx.passes);
      const landing = await app.request(`${origin}${ctx.passes.tokenise("/reference", visitor)}`);
      expect(landing.status).toBe(302);
      const cookie = stashCookieOf(landing);
      expect(cookie).toBeDefined();
      expect(cookie!.httpOnly).toBe(true);
      expect(cookie!.sameSite).toBe("lax");
      expect(cookie!.path).toBe("/");
      expect(cookie!.secure).toBe(secure);
    }
  });

  it("holds the uuid, a session id and an absolute expiry, signed", async () => {
    const visitor = await newPass(ctx.passes, { sessionExpiry: 3600 });
    const landing = await ctx.client("manual").get(ctx.passes.tokenise("/reference", visitor));
    const cookie = stashCookieOf(landing)!;
    expect(cookie.maxAge).toBe(3600);
    const raw = decodeURIComponent(cookie.value);
    const [payload, signature] = [
      raw.slice(0, raw.lastIndexOf(".")),
      raw.slice(raw.lastIndexOf(".") + 1),
    ];
    expect(signature).toBe(createHmac("sha256", HONO_SECRET).update(payload).digest("base64"));
    const stash = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    expect(stash.data[ctx.passes.config.sessionKey]).toBe(visitor.uuid);
    expect(typeof stash.sid).toBe("string");
    expect(Math.abs(stash.exp - (Date.now() + 3600_000))).toBeLessThan(60_000);
  });

  it("a forged, edited or expired stash grants nothing; the same stash signed right does (control)", async () => {
    const visitor = await newPass(ctx.passes);
    const key = ctx.passes.config.sessionKey;
    const stash = { sid: randomUUID(), data: { [key]: visitor.uuid }, exp: Date.now() + 3600_000 };
    const guarded = async (value: string) => {
      const response = await fetch(`${ctx.app.url}/reference`, cookieHeader(value));
      await response.arrayBuffer();
      return response.status;
    };

    const genuine = stashValue(stash);
    expect(await guarded(genuine)).toBe(200);

    const other = await newPass(ctx.passes);
    const payload = (s: object) => Buffer.from(JSON.stringify(s)).toString("base64url");
    const signature = genuine.slice(genuine.lastIndexOf(".") + 1);
    const refused = {
      "signed with another secret": stashValue(stash, "another-secret-of-at-least-32-chars!"),
      unsigned: payload(stash),
      "another visitor under the genuine signature": `${payload({ ...stash, data: { [key]: other.uuid } })}.${signature}`,
      "a later expiry under the genuine signature": `${payload({ ...stash, exp: stash.exp + 1 })}.${signature}`,
      "past its expiry, signed right": stashValue({ ...stash, exp: Date.now() - 1000 }),
    };
    for (const [what, value] of Object.entries(refused)) {
      expect({ what, status: await guarded(value) }).toEqual({ what, status: 403 });
    }
  });

  it("a signature spelt another way (the unused bits of its last base64 digit) is refused", async () => {
    const visitor = await newPass(ctx.passes);
    const vera = ctx.client();
    await click(vera, ctx.passes, visitor);
    const genuine = decodeURIComponent((await vera.cookie(STASH_COOKIE))!);
    const DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // The signature is 43 digits and "=": the last digit carries 2 bits that atob ignores.
    const last = genuine.length - 2;
    const digit = DIGITS.indexOf(genuine[last]!);
    const spellings = [0, 1, 2, 3]
      .map((low) => DIGITS[(digit & ~3) | low]!)
      .filter((char) => char !== genuine[last]);
    expect(spellings).toHaveLength(3);
    for (const char of spellings) {
      const value = `${genuine.slice(0, last)}${char}=`;
      expect(Buffer.from(value.slice(value.lastIndexOf(".") + 1), "base64")).toEqual(
        Buffer.from(genuine.slice(genuine.lastIndexOf(".") + 1), "base64"),
      );
      const response = await fetch(`${ctx.app.url}/reference`, cookieHeader(value));
      expect(response.status).toBe(403);
    }
    expect((await fetch(`${ctx.app.url}/reference`, cookieHeader(genuine))).status).toBe(200);
  });
});

describe("hono: the token is taken off the request", () => {
  let passes: VisitorPass;
  let app: RunningApp;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ passes, cleanup } = await openPasses(SQLITE, { landingRedirect: false }));
    const hono = buildHonoApp(passes);
    hono.post("/echo", async (c) =>
      c.json({ url: c.req.url, query: c.req.query(), body: await c.req.parseBody() }),
    );
    app = await serveHono(hono);
  });
  afterAll(async () => {
    await app?.close();
    await cleanup();
  });

  it("a POST landing keeps its body for the app, under a URL without the token", async () => {
    const visitor = await newPass(passes);
    const client = new Client(app.url);
    const { status, body } = await client.json(`/echo?a=1&vuid=${visitor.uuid}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "note=hello+there&n=2",
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      url: `${app.url}/echo?a=1`,
      query: { a: "1" },
      body: { note: "hello there", n: "2" },
    });
    expect(await whoami(client)).toEqual({ visitor: visitor.uuid, isVisitor: true });
  });
});

describe("hono: the server enforces the stash's absolute expiry", () => {
  const clock = new Clock();
  afterEach(() => clock.reset());
  const ctx = useApp(honoHarness, SQLITE, { now: clock.now });

  it("a pass's sessionExpiry: refused after it, though the browser still sends the cookie", async () => {
    const visitor = await newPass(ctx.passes, { sessionExpiry: 3600 });
    const vera = ctx.client();
    await click(vera, ctx.passes, visitor);
    clock.advance(3500);
    expect((await vera.get("/reference")).status).toBe(200);
    clock.advance(200);
    expect(await vera.cookie(STASH_COOKIE)).toBeTruthy();
    expect((await vera.get("/reference")).status).toBe(403);
    expect(await whoami(vera)).toEqual({ visitor: null, isVisitor: false });
    expect((await ctx.passes.get(visitor.uuid))?.isActive).toBe(true);
  });

  it("sessionExpiry 0: a browser-session cookie, refused after the app's maxAge", async () => {
    const visitor = await newPass(ctx.passes, { sessionExpiry: 0 });
    const vera = ctx.client();
    const landing = await click(vera, ctx.passes, visitor);
    expect(stashCookieOf(landing)?.maxAge ?? null).toBeNull();
    clock.advance(APP_COOKIE_MAX_AGE - 60);
    expect((await vera.get("/reference")).status).toBe(200);
    clock.advance(120);
    expect((await vera.get("/reference")).status).toBe(403);
  });
});

describe("hono: setup", () => {
  let passes: VisitorPass;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ passes, cleanup } = await openPasses(SQLITE));
  });
  afterAll(() => cleanup());

  it("a secret shorter than 32 characters, or none, throws VisitorPassConfigError at setup", () => {
    const short = "s3cret-but-only-31-characters!!";
    expect(short).toHaveLength(31);
    for (const options of [{ secret: short }, {}, { secret: 42 as never }]) {
      let error: unknown;
      try {
        visitorPass(passes, options);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(VisitorPassConfigError);
      expect((error as VisitorPassConfigError).option).toBe("secret");
      expect((error as Error).message).not.toContain(short);
    }
    expect(() => visitorPass(passes, { secret: `${short}!` })).not.toThrow();
  });

  it("maxAge must be a positive number of seconds", () => {
    for (const maxAge of [0, -1, Number.NaN, "3600" as never]) {
      expect(() => visitorPass(passes, { secret: HONO_SECRET, maxAge })).toThrow(
        VisitorPassConfigError,
      );
    }
  });

  it("with a server-side session plugged in, no secret is needed", () => {
    expect(() => visitorPass(passes, { session: () => new MemorySessions().port() })).not.toThrow();
  });
});

/** A tiny server-side session store: a `sid` cookie naming an in-memory map. */
class MemorySessions {
  readonly sessions = new Map<string, Map<string, string>>();

  port(c?: Context): SessionPort {
    let id = c ? getCookie(c, "sid") : undefined;
    let data = id ? this.sessions.get(id) : undefined;
    if (!data) id = undefined;
    const ensure = (): Map<string, string> => {
      if (!id || !data) {
        id = randomUUID();
        data = new Map();
        this.sessions.set(id, data);
        if (c) setCookie(c, "sid", id, { path: "/", httpOnly: true, sameSite: "Lax" });
      }
      return data;
    };
    return {
      get id() {
        return id ?? null;
      },
      get: (key) => data?.get(key),
      set: (key, value) => {
        ensure().set(key, value);
      },
      delete: (key) => {
        data?.delete(key);
      },
      setCookieLifetime: (seconds) => {
        ensure();
        if (c) {
          setCookie(c, "sid", id!, {
            path: "/",
            httpOnly: true,
            sameSite: "Lax",
            ...(seconds > 0 ? { maxAge: seconds } : {}),
          });
        }
      },
      regenerate: async () => {
        const kept = data;
        if (id) this.sessions.delete(id);
        id = undefined;
        data = undefined;
        const fresh = ensure();
        for (const [key, value] of kept ?? []) fresh.set(key, value);
      },
    };
  }
}

describe("hono: a server-side session plugged in with `session`", () => {
  const sessions = new MemorySessions();
  let passes: VisitorPass;
  let app: RunningApp;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ passes, cleanup } = await openPasses(SQLITE, { onConflict: "replace" }));
    app = await serveHono(
      buildHonoApp(passes, { visitorPass: { session: (c) => sessions.port(c) } }),
      { sessionCookie: "sid", sessionIdOf: (value) => value },
    );
  });
  afterAll(async () => {
    await app?.close();
    await cleanup();
  });

  it("stashes the visitor there instead of the cookie: admit, restore, rotate, clear, log", async () => {
    const a = await newPass(passes);
    const b = await newPass(passes);
    const vera = new Client(app.url);

    const landing = await click(vera, passes, a);
    expect(landing.status).toBe(302);
    expect(stashCookieOf(landing)).toBeUndefined();
    const holdingA = (await vera.cookie("sid"))!;
    expect(sessions.sessions.get(holdingA)?.get(passes.config.sessionKey)).toBe(a.uuid);
    expect((await vera.json("/reference")).body).toMatchObject({ visitor: a.uuid });
    expect((await passes.logs(a.uuid))[0]?.sessionKey).toBe(holdingA);

    // A change of visitor rotates the id; the server forgot the old one, so it grants nothing.
    await click(vera, passes, b);
    const holdingB = (await vera.cookie("sid"))!;
    expect(holdingB).not.toBe(holdingA);
    expect(sessions.sessions.has(holdingA)).toBe(false);
    expect(await whoami(vera)).toEqual({ visitor: b.uuid, isVisitor: true });
    const replay = await fetch(`${app.url}/reference`, { headers: { cookie: `sid=${holdingA}` } });
    expect(replay.status).toBe(403);

    expect((await vera.post("/reference/finish")).status).toBe(200);
    expect(sessions.sessions.get(holdingB)?.has(passes.config.sessionKey)).toBe(false);
    expect((await vera.get("/reference")).status).toBe(403);
  });
});

describe("hono: a guard's 429 without an onError of the app's", () => {
  it("is Hono's default response of the HTTPException: a small page with Retry-After", async () => {
    const { passes, cleanup } = await openPasses(SQLITE, {
      throttle: { selfService: { points: 1, duration: 60 } },
    });
    try {
      const app = new Hono();
      app.use(visitorPass(passes, { secret: HONO_SECRET }));
      app.get("/apply", userIsVisitor({ scope: "REF", selfService: true }), (c) => c.text("in"));
      expect((await app.request("/apply")).status).toBe(302);
      const throttled = await app.request("/apply");
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(throttled.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await throttled.text()).toContain("Too many requests came from your network");
    } finally {
      await cleanup();
    }
  });
});
