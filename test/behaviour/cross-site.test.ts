import { describe, expect, it } from "vitest";
import type { VisitorPassOptions } from "../../src/index.js";
import { type Client, type ClientRequest, setCookies } from "./client.js";
import { HARNESSES } from "./harness.js";
import { type AppContext, click, newPass, SQLITE, useApp, uses, whoami } from "./support.js";

/**
 * A token on a request other than a GET or the confirmation page's same-site POST admits nobody:
 * a hostile site's auto-submitting form (`<form method=post action="https://app/…?vuid=…">`)
 * must not plant its own pass ("login CSRF"). Such a request goes on as it would without the
 * token: nothing spent, no session created or changed, no cookie set, the token still hidden.
 */

/**
 * What a browser sends with a form another site submits (no cookies: SameSite=Lax); as
 * `enctype="text/plain"`, which every framework here parses without a plugin.
 */
const FROM_ANOTHER_SITE = {
  "content-type": "text/plain",
  origin: "http://localhost:9",
  "sec-fetch-site": "cross-site",
  "sec-fetch-mode": "navigate",
};

/** The `Set-Cookie` headers of `response` that set the session cookie (or Hono's stash). */
function sessionCookies(ctx: AppContext, response: Response): string[] {
  return setCookies(response).filter((header) => header.startsWith(`${ctx.app.sessionCookie}=`));
}

/**
 * The session cookie values `response` sets: none, or (@fastify/session sends the cookie on every
 * response by default) the very value the client already held.
 */
function cookieValues(ctx: AppContext, response: Response): string[] {
  return sessionCookies(ctx, response).map((header) => header.split(";")[0]!.split("=")[1]!);
}

async function send(client: Client, path: string, init: ClientRequest): Promise<Response> {
  const response = await client.request(path, { redirect: "manual", ...init });
  await response.arrayBuffer();
  return response;
}

const SETUPS: [string, VisitorPassOptions][] = [
  ["default", {}],
  ["confirm: true", { confirm: true }],
  ['onConflict: "replace"', { onConflict: "replace" }],
];

describe.each(HARNESSES)("a token on a request that cannot admit: $name", (harness) => {
  describe.each(SETUPS)("%s", (_label, options) => {
    const ctx = useApp(harness, SQLITE, options);

    it("a cross-site form POST with Mallory's token leaves an anonymous visitor anonymous", async () => {
      const mallory = await newPass(ctx.passes, { firstName: "Mallory" });
      const ginger = ctx.client("manual");
      for (const path of ["/reference", "/seen-url"]) {
        const response = await send(ginger, ctx.passes.tokenise(path, mallory), {
          method: "POST",
          headers: FROM_ANOTHER_SITE,
          body: "a=1",
        });
        expect(response.status).toBe(path === "/reference" ? 403 : 200);
        expect(sessionCookies(ctx, response)).toEqual([]);
      }
      expect(await ginger.cookie(ctx.app.sessionCookie)).toBeUndefined();
      expect(await whoami(ginger)).toEqual({ visitor: null, isVisitor: false });
      expect(await uses(ctx.passes, mallory.uuid)).toBe(0);
    });

    it("…and the confirmation's POST from another site does the same", async () => {
      const mallory = await newPass(ctx.passes);
      const ginger = ctx.client("manual");
      const url = `${ctx.passes.tokenise("/seen-url", mallory)}&vuid-confirm=1`;
      for (const headers of [FROM_ANOTHER_SITE, { origin: "http://localhost:9" }]) {
        const response = await send(ginger, url, { method: "POST", headers, body: "a=1" });
        expect(response.status).toBe(200);
        expect(sessionCookies(ctx, response)).toEqual([]);
      }
      expect(await whoami(ginger)).toEqual({ visitor: null, isVisitor: false });
      expect(await uses(ctx.passes, mallory.uuid)).toBe(0);
    });

    it("a POST, PUT, PATCH or DELETE with a token, even from this site, admits nobody", async () => {
      const mallory = await newPass(ctx.passes);
      const client = ctx.client("manual");
      for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
        const response = await send(client, ctx.passes.tokenise("/seen-url", mallory), {
          method,
          headers: { "sec-fetch-site": "same-origin" },
        });
        expect(response.status).toBe(200);
        expect(sessionCookies(ctx, response)).toEqual([]);
      }
      expect(await whoami(client)).toEqual({ visitor: null, isVisitor: false });
      expect(await uses(ctx.passes, mallory.uuid)).toBe(0);
    });

    it("the token is still hidden from the app", async () => {
      const mallory = await newPass(ctx.passes);
      const seen = await ctx
        .client("manual")
        .json(`/seen-url?a=1&vuid=${mallory.uuid}`, { method: "POST", headers: FROM_ANOTHER_SITE });
      expect(seen.status).toBe(200);
      expect(seen.body.originalUrl).toBe("/seen-url?a=1");
      expect(seen.body.query).toEqual({ a: "1" });
    });

    it("Ginger holding her own pass stays Ginger, her session and cookie untouched", async () => {
      const ginger = await newPass(ctx.passes, { firstName: "Ginger" });
      const mallory = await newPass(ctx.passes, { firstName: "Mallory" });
      const client = ctx.client("manual");
      await click(client, ctx.passes, ginger);
      if (options.confirm) {
        // With confirm, Ginger's own click showed the page; she confirms it.
        const page = await send(
          client,
          `${ctx.passes.tokenise("/reference", ginger)}&vuid-confirm=1`,
          {
            method: "POST",
            headers: { "sec-fetch-site": "same-origin" },
          },
        );
        expect(page.status).toBe(303);
      }
      const held = await client.cookie(ctx.app.sessionCookie);
      expect(held).toBeTruthy();
      // Requests that do carry her cookie (a same-site one, or a browser without SameSite).
      for (const headers of [FROM_ANOTHER_SITE, { "sec-fetch-site": "same-origin" }]) {
        const response = await send(client, ctx.passes.tokenise("/seen-url", mallory), {
          method: "POST",
          headers,
        });
        for (const value of cookieValues(ctx, response)) expect(value).toBe(held);
      }
      expect(await client.cookie(ctx.app.sessionCookie)).toBe(held);
      expect(await whoami(client)).toEqual({ visitor: ginger.uuid, isVisitor: true });
      expect(await uses(ctx.passes, mallory.uuid)).toBe(0);
    });

    it("Fred, signed in, stays signed in and no visitor", async () => {
      const mallory = await newPass(ctx.passes);
      const fred = ctx.client("manual");
      expect((await fred.post("/login")).status).toBe(200);
      const held = await fred.cookie(ctx.app.sessionCookie);
      const response = await send(fred, ctx.passes.tokenise("/seen-url", mallory), {
        method: "POST",
        headers: FROM_ANOTHER_SITE,
      });
      for (const value of cookieValues(ctx, response)) expect(value).toBe(held);
      expect(await fred.cookie(ctx.app.sessionCookie)).toBe(held);
      expect(await whoami(fred)).toEqual({ visitor: null, isVisitor: false });
      expect(await uses(ctx.passes, mallory.uuid)).toBe(0);
    });

    it("the link still admits when its holder clicks it (GET)", async () => {
      const visitor = await newPass(ctx.passes);
      const client = ctx.client("manual");
      await send(client, ctx.passes.tokenise("/seen-url", visitor), {
        method: "POST",
        headers: FROM_ANOTHER_SITE,
      });
      const landing = await click(client, ctx.passes, visitor);
      expect(landing.status).toBe(options.confirm ? 200 : 302);
      if (!options.confirm) expect(await whoami(client)).toMatchObject({ isVisitor: true });
    });
  });
});
