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
import {
  buildHonoApp,
  HONO_SECRET,
  honoHarness,
  openStash,
  STASH_COOKIE,
  type StashContent,
  sealStash,
  serveHono,
} from "./hono-harness.js";
import { Clock, click, newPass, SQLITE, useApp, whoami } from "./support.js";

/** A stash cookie value as the previous version wrote it: base64url JSON, a dot, HMAC-SHA256. */
function signedOnlyValue(stash: StashContent, secret = HONO_SECRET): string {
  const payload = Buffer.from(JSON.stringify(stash)).toString("base64url");
  const signature = createHmac("sha256", secret).update(payload).digest("base64");
  return `${payload}.${signature}`;
}

function cookieHeader(value: string, name = STASH_COOKIE): { headers: { cookie: string } } {
  return { headers: { cookie: `${name}=${encodeURIComponent(value)}` } };
}

function stashCookieOf(response: Response, name = STASH_COOKIE): Cookie | undefined {
  return setCookies(response)
    .map((header) => Cookie.parse(header))
    .find((cookie) => cookie?.key === name);
}

/** The stash's `Set-Cookie` header line as sent, `Set-Cookie: ` included; fails when there is none. */
function stashLineOf(response: Response, name = STASH_COOKIE): string {
  const lines = setCookies(response).filter((header) => header.startsWith(`${name}=`));
  expect(lines).toHaveLength(1);
  return `Set-Cookie: ${lines[0]}`;
}

const HOST = `__Host-${STASH_COOKIE}`;

/** What is Hono's own: the encrypted cookie stash, its setup checks, a plugged-in session. */
describe("hono: the encrypted cookie stash", () => {
  const ctx = useApp(honoHarness, SQLITE);

  it("is HttpOnly, SameSite=Lax, Path=/; on https it is __Host- and Secure, on http plain", async () => {
    const app = buildHonoApp(ctx.passes);
    for (const [origin, name, secure] of [
      ["https://example.org", HOST, true],
      ["http://example.org", STASH_COOKIE, false],
    ] as const) {
      const visitor = await newPass(ctx.passes);
      const landing = await app.request(`${origin}${ctx.passes.tokenise("/reference", visitor)}`);
      expect(landing.status).toBe(302);
      expect(setCookies(landing)).toHaveLength(1);
      const cookie = stashCookieOf(landing, name);
      expect(cookie).toBeDefined();
      expect(cookie!.httpOnly).toBe(true);
      expect(cookie!.sameSite).toBe("lax");
      expect(cookie!.path).toBe("/");
      expect(cookie!.domain).toBeNull();
      expect(cookie!.secure).toBe(secure);

      // Read back under the name this request's scheme uses, and under no other.
      const other = name === HOST ? STASH_COOKIE : HOST;
      const back = await app.request(`${origin}/reference`, cookieHeader(cookie!.value, name));
      expect(back.status).toBe(200);
      const elsewhere = await app.request(
        `${origin}/reference`,
        cookieHeader(cookie!.value, other),
      );
      expect(elsewhere.status).toBe(403);
      const otherOrigin = origin.startsWith("https:")
        ? "http://example.org"
        : "https://example.org";
      const downgraded = await app.request(
        `${otherOrigin}/reference`,
        cookieHeader(cookie!.value, name),
      );
      expect(downgraded.status).toBe(403);
    }
  });

  it("`secure: true` gives the __Host- cookie on an http URL (TLS ended by a proxy)", async () => {
    const app = buildHonoApp(ctx.passes, { visitorPass: { secure: true } });
    const visitor = await newPass(ctx.passes);
    const landing = await app.request(
      `http://example.org${ctx.passes.tokenise("/reference", visitor)}`,
    );
    const cookie = stashCookieOf(landing, HOST);
    expect(cookie?.secure).toBe(true);
    expect(stashCookieOf(landing, STASH_COOKIE)).toBeUndefined();
    const back = await app.request(
      "http://example.org/reference",
      cookieHeader(cookie!.value, HOST),
    );
    expect(back.status).toBe(200);

    // Leaving the stash deletes the same cookie.
    const finish = await app.request("http://example.org/reference/finish", {
      method: "POST",
      ...cookieHeader(cookie!.value, HOST),
    });
    expect(finish.status).toBe(200);
    const deleted = stashCookieOf(finish, HOST);
    expect(deleted?.value).toBe("");
    expect(deleted?.secure).toBe(true);
  });

  it("reveals nothing of what it holds: the token is not in it, and no two seals look alike", async () => {
    const visitor = await newPass(ctx.passes, { sessionExpiry: 3600 });
    const values: string[] = [];
    for (let i = 0; i < 2; i++) {
      const landing = await ctx.client("manual").get(ctx.passes.tokenise("/reference", visitor));
      const cookie = stashCookieOf(landing)!;
      expect(cookie.maxAge).toBe(3600);
      values.push(decodeURIComponent(cookie.value));
    }
    const token = visitor.uuid.toLowerCase();
    for (const value of values) {
      expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
      const decoded = [
        value,
        Buffer.from(value, "base64url").toString("latin1"),
        Buffer.from(value, "base64url").toString("hex"),
      ]
        .join("\n")
        .toLowerCase();
      expect(decoded).not.toContain(token);
      expect(decoded).not.toContain(token.replace(/-/g, ""));
      // The stash's field names, were it plain JSON.
      expect(decoded).not.toContain('"sid"');
    }
    expect(values[0]).not.toBe(values[1]);

    // What the app's key opens: the uuid, a session id and an absolute expiry.
    const stash = openStash(values[0]!)!;
    expect(stash.data[ctx.passes.config.sessionKey]).toBe(visitor.uuid);
    expect(typeof stash.sid).toBe("string");
    expect(Math.abs(stash.exp - (Date.now() + 3600_000))).toBeLessThan(60_000);
  });

  it("a forged, edited, moved, old-format or expired stash grants nothing; one sealed right does (control)", async () => {
    const visitor = await newPass(ctx.passes);
    const key = ctx.passes.config.sessionKey;
    const stash = { sid: randomUUID(), data: { [key]: visitor.uuid }, exp: Date.now() + 3600_000 };
    const guarded = async (value: string) => {
      const response = await fetch(`${ctx.app.url}/reference`, cookieHeader(value));
      await response.arrayBuffer();
      return response.status;
    };

    const genuine = sealStash(stash);
    expect(await guarded(genuine)).toBe(200);

    const bytes = Buffer.from(genuine, "base64url");
    const flipped = (index: number) => {
      const copy = Buffer.from(bytes);
      copy[index]! ^= 1;
      return copy.toString("base64url");
    };
    const refused = {
      "sealed with another secret": sealStash(stash, {
        secret: "another-secret-of-at-least-32-chars!",
      }),
      "sealed for another cookie name": sealStash(stash, { name: HOST }),
      "a bit flipped in the IV": flipped(0),
      "a bit flipped in the ciphertext": flipped(20),
      "a bit flipped in the tag": flipped(bytes.length - 1),
      "cut short by a byte": bytes.subarray(0, bytes.length - 1).toString("base64url"),
      "readable JSON, unsealed": Buffer.from(JSON.stringify(stash)).toString("base64url"),
      "signed by the previous version": signedOnlyValue(stash),
      "past its expiry, sealed right": sealStash({ ...stash, exp: Date.now() - 1000 }),
    };
    for (const [what, value] of Object.entries(refused)) {
      expect({ what, status: await guarded(value) }).toEqual({ what, status: 403 });
    }
    const who = await fetch(
      `${ctx.app.url}/whoami`,
      cookieHeader(refused["a bit flipped in the tag"]),
    );
    expect(await who.json()).toEqual({ visitor: null, isVisitor: false });
  });

  it("a seal spelt another way (the unused bits of its last base64url digit) is refused", async () => {
    const visitor = await newPass(ctx.passes);
    const key = ctx.passes.config.sessionKey;
    // A stash whose sealed bytes leave 4 unused bits in the last digit: 15 other spellings.
    let genuine = "";
    for (let pad = ""; pad.length < 3; pad += "x") {
      genuine = sealStash({
        sid: `s${pad}`,
        data: { [key]: visitor.uuid },
        exp: Date.now() + 3600_000,
      });
      if (Buffer.from(genuine, "base64url").length % 3 === 1) break;
    }
    expect(Buffer.from(genuine, "base64url").length % 3).toBe(1);
    expect((await fetch(`${ctx.app.url}/reference`, cookieHeader(genuine))).status).toBe(200);
    const DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = genuine.length - 1;
    const digit = DIGITS.indexOf(genuine[last]!);
    const spellings = Array.from({ length: 16 }, (_, low) => DIGITS[(digit & ~15) | low]!).filter(
      (char) => char !== genuine[last],
    );
    expect(spellings).toHaveLength(15);
    for (const char of spellings) {
      const value = `${genuine.slice(0, last)}${char}`;
      expect(Buffer.from(value, "base64url")).toEqual(Buffer.from(genuine, "base64url"));
      const response = await fetch(`${ctx.app.url}/reference`, cookieHeader(value));
      await response.arrayBuffer();
      expect({ char, status: response.status }).toEqual({ char, status: 403 });
    }
  });
});

/**
 * Browsers drop a `Set-Cookie` line of 4,096 bytes or more: the visitor whose one-use link was
 * spent would then be left outside. A long Referer, carried to the first logged visit, is what
 * could make it so.
 */
describe("hono: the stash cookie stays under 4,096 bytes", () => {
  const ctx = useApp(honoHarness, SQLITE);

  for (const length of [3_000, 10_000]) {
    it(`a ${length.toLocaleString("en")}-character same-site Referer: admitted, restored, logged clipped`, async () => {
      const visitor = await newPass(ctx.passes, { sessionExpiry: 3600, maxUses: 1 });
      const referer = `${ctx.app.url}/from?${"q=long&".repeat(length)}`.slice(0, length);
      const vera = ctx.client("manual");
      const landing = await vera.get(ctx.passes.tokenise("/reference", visitor), {
        headers: { referer },
      });
      await landing.arrayBuffer();
      expect(landing.status).toBe(302);
      expect(Buffer.byteLength(stashLineOf(landing))).toBeLessThan(4096);

      const first = await vera.get("/reference");
      expect(first.status).toBe(200);
      expect(await whoami(vera)).toEqual({ visitor: visitor.uuid, isVisitor: true });
      const [log] = await ctx.passes.logs(visitor.uuid);
      expect(log!.httpReferer).toBeTruthy();
      expect(referer.startsWith(log!.httpReferer!)).toBe(true);
      expect(log!.httpReferer!.length).toBeLessThanOrEqual(2000);
    });
  }

  it("on https too, under the __Host- name, with a Referer of 10,000 non-ASCII characters", async () => {
    const app = buildHonoApp(ctx.passes);
    const visitor = await newPass(ctx.passes, { maxUses: 1 });
    const referer = `https://example.org/${"é".repeat(10_000)}`;
    const landing = await app.request(
      `https://example.org${ctx.passes.tokenise("/reference", visitor)}`,
      { headers: { referer: Buffer.from(referer, "utf8").toString("latin1") } },
    );
    expect(landing.status).toBe(302);
    const line = stashLineOf(landing, HOST);
    expect(Buffer.byteLength(line)).toBeLessThan(4096);
    const value = stashCookieOf(landing, HOST)!.value;
    const back = await app.request("https://example.org/reference", cookieHeader(value, HOST));
    expect(back.status).toBe(200);
    expect(await back.json()).toMatchObject({ visitor: visitor.uuid, isVisitor: true });
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

  it("a POST with a token keeps its body for the app, under a URL without the token", async () => {
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
    // Only a GET lands: the POST admitted nobody.
    expect(await whoami(client)).toEqual({ visitor: null, isVisitor: false });
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

  it("a cookieName that is no cookie token (or too long to leave room for the stash), or a secure that is no boolean, throws at setup", () => {
    for (const cookieName of ["", "two words", "semi;colon", "n".repeat(201), 7 as never]) {
      expect(() => visitorPass(passes, { secret: HONO_SECRET, cookieName })).toThrow(
        VisitorPassConfigError,
      );
    }
    expect(() =>
      visitorPass(passes, { secret: HONO_SECRET, cookieName: "n".repeat(200) }),
    ).not.toThrow();
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
