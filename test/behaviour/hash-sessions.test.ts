import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Client } from "./client.js";
import { HARNESSES } from "./harness.js";
import { type AppContext, click, matrix, newPass, SQLITE, useApp, whoami } from "./support.js";

/**
 * With `tokenStorage: "hash"` a copy of anything the package stores grants nothing: the session
 * (a server-side store's contents, or Hono's stash cookie) keeps the pass's digest, never the
 * token, and the visitor is restored by it.
 */

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

/** Every cookie the browser holds, as stored and as the stash's decoded payload would read. */
async function cookieText(ctx: AppContext, client: Client): Promise<string> {
  const cookies = await client.jar.getCookies(ctx.app.url);
  return cookies
    .flatMap((cookie) => {
      const value = decodeURIComponent(cookie.value);
      const dot = value.lastIndexOf(".");
      const payload = dot === -1 ? value : value.slice(0, dot);
      return [value, Buffer.from(payload, "base64url").toString("utf8")];
    })
    .join("\n");
}

/** What a dump of the session storage shows: the server's store, or the stash cookie itself. */
async function storedSessions(ctx: AppContext, client: Client): Promise<string> {
  return ctx.app.storedSessions?.() ?? cookieText(ctx, client);
}

describe.each(matrix(HARNESSES))(
  'tokenStorage: "hash" in sessions: %s',
  (_label, harness, database) => {
    describe.skipIf(!database.url)(`(${database.skipped ?? "configured"})`, () => {
      const ctx = useApp(harness, database, { tokenStorage: "hash", sessionExpiry: 3600 });

      it("no session or cookie holds the token; the visitor is restored by its digest", async () => {
        const visitor = await newPass(ctx.passes);
        const token = visitor.uuid;
        const vera = ctx.client();
        const landing = await click(vera, ctx.passes, visitor);
        expect(landing.status).toBe(302);

        const stored = await storedSessions(ctx, vera);
        expect(stored.length).toBeGreaterThan(0);
        for (const form of [token, token.toUpperCase(), token.replace(/-/g, "")]) {
          expect(stored).not.toContain(form);
          expect(await cookieText(ctx, vera)).not.toContain(form);
        }
        if (ctx.app.storedSessions) expect(stored).toContain(sha256(token));

        for (let i = 0; i < 3; i++) {
          expect(await whoami(vera)).toEqual({ visitor: sha256(token), isVisitor: true });
          const page = await vera.json("/reference");
          expect(page.status).toBe(200);
          expect(page.body).toMatchObject({ isVisitor: true, fullName: visitor.fullName });
        }
        expect(await storedSessions(ctx, vera)).not.toContain(token);

        // The digest the session holds still names the pass: deactivating it ends the session.
        await ctx.passes.deactivate(sha256(token));
        const refused = await vera.get("/reference");
        await refused.arrayBuffer();
        expect(refused.status).toBe(403);
      });
    });
  },
);

/** A control: the same inspection finds the token where it is kept in the clear. */
describe.each(HARNESSES.filter((harness) => harness.capabilities.serverSession))(
  'tokenStorage: "plain" in sessions (control): $name',
  (harness) => {
    const ctx = useApp(harness, SQLITE);

    it("the server-side session holds the token", async () => {
      const visitor = await newPass(ctx.passes);
      const vera = ctx.client();
      await click(vera, ctx.passes, visitor);
      expect(ctx.app.storedSessions?.()).toContain(visitor.uuid);
      expect(await whoami(vera)).toEqual({ visitor: visitor.uuid, isVisitor: true });
    });
  },
);
