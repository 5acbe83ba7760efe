import { type Context, Hono } from "hono";
import { describe, expect, it } from "vitest";
import { VisitorPassError } from "../../core/errors.js";
import { type CookieStashOptions, cookieStash } from "./cookie-stash.js";

const VISITOR = "visitor:session";
const REFERER = "visitor:session:referer";
const UUID = "9b1f0c6e-3c43-4d0a-9a51-0d2c8f6a7e21";

/**
 * The stash over a Hono context, as an adapter uses it: each commit's `Set-Cookie` goes on the
 * route's response.
 */
function onContext(options: Omit<CookieStashOptions, "caller">) {
  const stashOf = cookieStash({ caller: "test()", ...options });
  return async (c: Context) => {
    const session = await stashOf(c.req.raw);
    return {
      get: (key: string) => session.get(key),
      set: (key: string, value: string) => session.set(key, value),
      commit: async () => {
        const cookie = await session.commit();
        if (cookie !== null) c.header("Set-Cookie", cookie, { append: true });
      },
    };
  };
}

/**
 * A Hono app whose routes use the stash directly, as the core does through its session port:
 * `POST /put` sets the JSON body's values, `GET /get` answers the values held.
 */
function stashApp(overrides: Partial<CookieStashOptions> = {}) {
  const stash = onContext({
    secret: "unit-test-stash-secret-of-32+chars!!",
    cookieName: "visitor_pass",
    maxAge: 86_400,
    secure: undefined,
    optional: new Set([REFERER]),
    now: () => new Date(),
    ...overrides,
  });
  const app = new Hono();
  app.post("/put", async (c) => {
    const session = await stash(c);
    for (const [key, value] of Object.entries(await c.req.json<Record<string, string>>())) {
      session.set(key, value);
    }
    await session.commit();
    return c.text("ok", 200);
  });
  app.get("/get", async (c) => {
    const session = await stash(c);
    const held: Record<string, unknown> = {};
    for (const key of c.req.queries("key") ?? []) held[key] = session.get(key);
    return c.json(held);
  });
  return app;
}

function put(app: Hono, origin: string, values: Record<string, string>) {
  return app.request(`${origin}/put`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(values),
  });
}

/** The one `Set-Cookie` line a response sends, as it goes on the wire. */
function lineOf(response: Response): string {
  const lines = response.headers.getSetCookie();
  expect(lines).toHaveLength(1);
  return `Set-Cookie: ${lines[0]}`;
}

async function held(app: Hono, origin: string, response: Response, keys: string[]) {
  const pair = response.headers.getSetCookie()[0]!.split(";")[0]!;
  const query = keys.map((key) => `key=${encodeURIComponent(key)}`).join("&");
  const back = await app.request(`${origin}/get?${query}`, { headers: { cookie: pair } });
  return (await back.json()) as Record<string, string | undefined>;
}

describe("the Hono cookie stash", () => {
  it("carries every string value set through the port, sealed: quotes, non-ASCII, a digest", async () => {
    const app = stashApp();
    const values = {
      [VISITOR]: "a".repeat(64),
      "app:note": 'He said "hé" \\ → ✓',
      "visitor:session:admitted": "1764644400000",
    };
    const response = await put(app, "http://example.org", values);
    const line = lineOf(response);
    for (const value of Object.values(values)) expect(line).not.toContain(value);
    expect(await held(app, "http://example.org", response, Object.keys(values))).toEqual(values);
  });

  for (const [origin, length] of [
    ["http://example.org", 3_000],
    ["http://example.org", 10_000],
    ["https://example.org", 3_000],
    ["https://example.org", 10_000],
  ] as const) {
    it(`${origin}, app data and a ${length}-character Referer: under 4,096 bytes, nothing else cut`, async () => {
      // A long cookie name and app data leave less room: only the Referer gives way.
      const app = stashApp({ cookieName: "n".repeat(200) });
      const referer = `${origin}/from/${"r".repeat(length)}`.slice(0, length);
      const values = {
        [VISITOR]: UUID,
        "app:data": "d".repeat(1_500),
        [REFERER]: referer,
      };
      const response = await put(app, origin, values);
      expect(Buffer.byteLength(lineOf(response))).toBeLessThan(4096);
      const back = await held(app, origin, response, Object.keys(values));
      expect(back[VISITOR]).toBe(UUID);
      expect(back["app:data"]).toBe(values["app:data"]);
      expect(back[REFERER]).toBeTruthy();
      expect(referer.startsWith(back[REFERER]!)).toBe(true);
      expect(back[REFERER]!.length).toBeLessThanOrEqual(2000);
    });
  }

  it("a Referer that fits whole is carried whole", async () => {
    const app = stashApp();
    const referer = `https://mail.example/${"m".repeat(1_500)}`;
    const response = await put(app, "http://example.org", { [VISITOR]: UUID, [REFERER]: referer });
    const back = await held(app, "http://example.org", response, [REFERER]);
    expect(back[REFERER]).toBe(referer);
  });

  it("app data that cannot fit with the visitor is a named error, never a cookie browsers drop", async () => {
    const stash = onContext({
      secret: "unit-test-stash-secret-of-32+chars!!",
      cookieName: "visitor_pass",
      maxAge: 86_400,
      secure: undefined,
      optional: new Set([REFERER]),
      now: () => new Date(),
    });
    const app = new Hono();
    let failure: unknown;
    app.get("/", async (c) => {
      const session = await stash(c);
      session.set(VISITOR, UUID);
      session.set("app:data", "d".repeat(4_000));
      try {
        await session.commit();
      } catch (error) {
        failure = error;
      }
      return c.text("done", 200);
    });
    const response = await app.request("http://example.org/");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(failure).toBeInstanceOf(VisitorPassError);
    expect((failure as VisitorPassError).message).toMatch(/4,096 bytes/);
  });
});
