import { Cookie } from "tough-cookie";
import { describe, expect, it } from "vitest";
import type { Visitor, VisitorPass } from "../../src/index.js";
import { type Client, setCookies } from "./client.js";
import { APP_COOKIE_MAX_AGE, HARNESSES } from "./harness.js";
import { type AppContext, newPass, SQLITE, useApp } from "./support.js";

/** The session cookie a response sets, parsed; fails when there is none. */
function sessionCookieOf(ctx: AppContext, response: Response): Cookie {
  const cookies = setCookies(response)
    .map((header) => Cookie.parse(header))
    .filter((cookie): cookie is Cookie => cookie?.key === ctx.app.sessionCookie);
  expect(cookies).toHaveLength(1);
  return cookies[0]!;
}

/**
 * Seconds from now until the cookie expires, whether it says so with `Expires` (express-session,
 * @fastify/session) or `Max-Age` (Hono); `null` for a browser-session cookie.
 */
function lifetime(cookie: Cookie): number | null {
  const ttl = cookie.TTL();
  return ttl === Number.POSITIVE_INFINITY ? null : ttl / 1000;
}

async function admit(client: Client, passes: VisitorPass, visitor: Visitor): Promise<Response> {
  const landing = await client.get(passes.tokenise("/reference", visitor), { redirect: "manual" });
  await landing.arrayBuffer();
  expect(landing.status).toBe(302);
  return landing;
}

/** The session cookie's lifetime on admission; the cookie is plain HTTP, so SQLite only. */
describe.each(HARNESSES)("session cookie lifetime: $name", (harness) => {
  describe("anonymous visitors", () => {
    const ctx = useApp(harness, SQLITE);

    it("sessionExpiry 0 (the default): a browser-session cookie, which stays one", async () => {
      const visitor = await newPass(ctx.passes);
      expect(visitor.sessionExpiry).toBe(0);
      const client = ctx.client("manual");
      const landing = await admit(client, ctx.passes, visitor);
      expect(lifetime(sessionCookieOf(ctx, landing))).toBeNull();

      // A later change to the session does not bring the app's lifetime back.
      const stored = await client.get("/anon-data");
      for (const header of setCookies(stored)) {
        const cookie = Cookie.parse(header);
        if (cookie?.key === ctx.app.sessionCookie) expect(lifetime(cookie)).toBeNull();
      }
      expect((await client.get("/reference")).status).toBe(200);
    });

    it("sessionExpiry 3600: the cookie expires in about an hour", async () => {
      const visitor = await newPass(ctx.passes, { sessionExpiry: 3600 });
      const landing = await admit(ctx.client("manual"), ctx.passes, visitor);
      const seconds = lifetime(sessionCookieOf(ctx, landing));
      expect(seconds).not.toBeNull();
      expect(seconds!).toBeGreaterThan(3600 - 60);
      expect(seconds!).toBeLessThan(3600 + 60);
    });

    it("sessionExpiry null: the app's own cookie policy is left alone", async () => {
      const visitor = await newPass(ctx.passes, { sessionExpiry: null });
      const landing = await admit(ctx.client("manual"), ctx.passes, visitor);
      const seconds = lifetime(sessionCookieOf(ctx, landing));
      expect(seconds).not.toBeNull();
      expect(seconds!).toBeGreaterThan(APP_COOKIE_MAX_AGE - 60);
      expect(seconds!).toBeLessThan(APP_COOKIE_MAX_AGE + 60);
    });

    it.runIf(harness.capabilities.serverSession)(
      "the app's cookie policy applies to a session before admission (control)",
      async () => {
        const client = ctx.client("manual");
        const stored = await client.get("/anon-data");
        const seconds = lifetime(sessionCookieOf(ctx, stored));
        expect(seconds!).toBeGreaterThan(APP_COOKIE_MAX_AGE - 60);
      },
    );

    it.runIf(!harness.capabilities.serverSession)(
      "without a server-side session, nothing is stashed before admission (control)",
      async () => {
        const client = ctx.client("manual");
        const stored = await client.get("/anon-data");
        expect(await stored.text()).toBe("stored");
        const stash = setCookies(stored).filter(
          (header) => Cookie.parse(header)?.key === ctx.app.sessionCookie,
        );
        expect(stash).toEqual([]);
      },
    );
  });

  describe('signed-in users (onConflict: "replace", so that the link admits them)', () => {
    const ctx = useApp(harness, SQLITE, { onConflict: "replace" });

    it.each([0, 3600])(
      "a pass with sessionExpiry %s does not change their cookie",
      async (sessionExpiry) => {
        const visitor = await newPass(ctx.passes, { sessionExpiry });
        const fred = ctx.client("manual");
        expect((await fred.post("/login")).status).toBe(200);
        const landing = await admit(fred, ctx.passes, visitor);
        const seconds = lifetime(sessionCookieOf(ctx, landing));
        expect(seconds).not.toBeNull();
        expect(seconds!).toBeGreaterThan(APP_COOKIE_MAX_AGE - 60);
        expect((await fred.json("/reference")).body).toMatchObject({ visitor: visitor.uuid });
      },
    );
  });
});
