import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { KyselyStore } from "../../src/store/kysely/kysely-store.js";
import { HARNESSES } from "./harness.js";
import { Clock, click, matrix, newPass, useApp, uses, whoami } from "./support.js";

/** What the state of a pass in storage does to sessions: on every database. */
describe.each(matrix(HARNESSES))("passes in storage: %s", (_label, harness, database) => {
  describe.skipIf(!database.url)(`(${database.skipped ?? "configured"})`, () => {
    describe("default options", () => {
      // Its tests click far more refused links from one address than the landing budget takes
      // (throttles.test.ts covers that budget).
      const ctx = useApp(harness, database, {
        throttle: { landing: { points: 1000, duration: 60 } },
      });

      it("deactivate cuts an admitted session off at once; reactivate lets a new click in", async () => {
        const visitor = await newPass(ctx.passes);
        const vera = ctx.client();
        await click(vera, ctx.passes, visitor);
        expect((await vera.get("/reference")).status).toBe(200);

        await ctx.passes.deactivate(visitor.uuid);
        expect((await vera.get("/reference")).status).toBe(403);
        expect(await whoami(vera)).toEqual({ visitor: null, isVisitor: false });

        await ctx.passes.reactivate(visitor.uuid);
        // The session dropped the pass while it was inactive: it does not come back by itself.
        expect((await vera.get("/reference")).status).toBe(403);
        const again = ctx.client();
        expect((await click(again, ctx.passes, visitor)).status).toBe(302);
        expect((await again.json("/reference")).body).toMatchObject({ visitor: visitor.uuid });
      });

      it("maxUses 1: the first click admits, a second click in a fresh client does not", async () => {
        const visitor = await newPass(ctx.passes, { maxUses: 1 });
        const first = ctx.client();
        expect((await click(first, ctx.passes, visitor)).status).toBe(302);
        expect((await first.get("/reference")).status).toBe(200);

        const second = ctx.client("manual");
        const landing = await second.get(ctx.passes.tokenise("/reference", visitor));
        expect(landing.status).toBe(403);
        expect(await whoami(second)).toEqual({ visitor: null, isVisitor: false });
        expect(await uses(ctx.passes, visitor.uuid)).toBe(1);
        // The session admitted first keeps working: restoring spends no use.
        expect((await first.get("/reference")).status).toBe(200);
      });

      it("40 simultaneous clicks on a one-use link admit exactly one", async () => {
        const visitor = await newPass(ctx.passes, { maxUses: 1 });
        const clients = Array.from({ length: 40 }, () => ctx.client("manual"));
        const url = ctx.passes.tokenise("/reference", visitor);
        const responses = await Promise.all(clients.map((client) => client.get(url)));
        const statuses = await Promise.all(
          responses.map(async (response) => {
            await response.arrayBuffer();
            return response.status;
          }),
        );
        expect(statuses.filter((status) => status === 302)).toHaveLength(1);
        expect(statuses.filter((status) => status === 403)).toHaveLength(39);
        expect(await uses(ctx.passes, visitor.uuid)).toBe(1);
        const admitted = clients[statuses.indexOf(302)]!;
        expect(await whoami(admitted)).toEqual({ visitor: visitor.uuid, isVisitor: true });
      });

      it("a session holding visitor A keeps A when B's link is clicked; B's use is not spent", async () => {
        const a = await newPass(ctx.passes);
        const b = await newPass(ctx.passes);
        const client = ctx.client();
        await click(client, ctx.passes, a);
        const planted = await client.get(ctx.passes.tokenise("/reference", b));
        expect(planted.status).toBe(200);
        expect(await planted.json()).toMatchObject({ visitor: a.uuid });
        expect(await whoami(client)).toEqual({ visitor: a.uuid, isVisitor: true });
        expect(await uses(ctx.passes, b.uuid)).toBe(0);
        expect(await uses(ctx.passes, a.uuid)).toBe(1);
      });

      it("a signed-in user clicking a link stays the user and is not admitted", async () => {
        const visitor = await newPass(ctx.passes);
        const fred = ctx.client();
        expect((await fred.post("/login")).status).toBe(200);
        const landing = await fred.get(ctx.passes.tokenise("/reference", visitor), {
          redirect: "manual",
        });
        expect(landing.status).toBe(403);
        expect(await whoami(fred)).toEqual({ visitor: null, isVisitor: false });
        expect(await uses(ctx.passes, visitor.uuid)).toBe(0);
      });
    });

    describe('onConflict: "replace"', () => {
      const ctx = useApp(harness, database, { onConflict: "replace" });

      it("a session holding visitor A becomes B when B's link is clicked", async () => {
        const a = await newPass(ctx.passes);
        const b = await newPass(ctx.passes);
        const client = ctx.client();
        await click(client, ctx.passes, a);
        expect(await whoami(client)).toEqual({ visitor: a.uuid, isVisitor: true });
        const holdingA = await client.cookie(ctx.app.sessionCookie);
        expect((await click(client, ctx.passes, b)).status).toBe(302);
        expect(await whoami(client)).toEqual({ visitor: b.uuid, isVisitor: true });
        expect(await uses(ctx.passes, b.uuid)).toBe(1);

        // The change of visitor rotated the session id.
        const holdingB = await client.cookie(ctx.app.sessionCookie);
        expect(holdingB).not.toBe(holdingA);
        expect(ctx.app.sessionIdOf(holdingB!)).toBeTruthy();
        expect(ctx.app.sessionIdOf(holdingB!)).not.toBe(ctx.app.sessionIdOf(holdingA!));
        const replay = { headers: { cookie: `${ctx.app.sessionCookie}=${holdingA}` } };
        const guarded = await fetch(`${ctx.app.url}/reference`, replay);
        const who = await fetch(`${ctx.app.url}/whoami`, replay);
        if (harness.capabilities.serverSession) {
          // The server dropped the id that held A: it grants nothing now.
          expect(guarded.status).toBe(403);
          expect(await who.json()).toEqual({ visitor: null, isVisitor: false });
        } else {
          // A sealed cookie cannot be revoked: a copy holds what it held, A, and never B.
          expect(guarded.status).toBe(200);
          expect(await who.json()).toEqual({ visitor: a.uuid, isVisitor: true });
          // It is cut off with A's pass, like every session holding it.
          await ctx.passes.deactivate(a.uuid);
          expect((await fetch(`${ctx.app.url}/reference`, replay)).status).toBe(403);
          expect(await whoami(client)).toEqual({ visitor: b.uuid, isVisitor: true });
        }
      });
    });

    describe("with a clock", () => {
      const clock = new Clock();
      afterEach(() => clock.reset());

      describe("link expiry", () => {
        const ctx = useApp(harness, database, { now: clock.now, tokenExpiry: 300 });

        it("a link that expired after admission still lets the session through; a new click does not admit", async () => {
          const visitor = await newPass(ctx.passes);
          const vera = ctx.client();
          expect((await click(vera, ctx.passes, visitor)).status).toBe(302);

          clock.advance(3600);
          expect((await ctx.passes.get(visitor.uuid))?.hasExpired).toBe(true);
          expect((await vera.json("/reference")).body).toMatchObject({ visitor: visitor.uuid });
          expect(await whoami(vera)).toEqual({ visitor: visitor.uuid, isVisitor: true });

          const late = ctx.client("manual");
          expect((await late.get(ctx.passes.tokenise("/reference", visitor))).status).toBe(403);
          expect(await whoami(late)).toEqual({ visitor: null, isVisitor: false });
          expect(await uses(ctx.passes, visitor.uuid)).toBe(1);
        });
      });

      describe("purge", () => {
        // SQLite in memory is one database per connection: share one Kysely with a second store.
        const memory =
          database.name === "sqlite"
            ? new Kysely<any>({
                dialect: new SqliteDialect({ database: new Database(":memory:") }),
              })
            : null;
        afterAll(async () => {
          await memory?.destroy();
        });
        const ctx = useApp(harness, database, {
          now: clock.now,
          tokenExpiry: 300,
          ...(memory ? { database: memory } : {}),
        });

        it("a stashed uuid whose pass was purged is removed from the session", async () => {
          const visitor = await newPass(ctx.passes);
          const vera = ctx.client();
          await click(vera, ctx.passes, visitor);
          expect((await vera.get("/reference")).status).toBe(200);

          clock.advance(3600);
          expect(await ctx.passes.purge()).toBeGreaterThanOrEqual(1);
          expect(await ctx.passes.get(visitor.uuid)).toBeNull();
          expect((await vera.get("/reference")).status).toBe(403);
          expect(await whoami(vera)).toEqual({ visitor: null, isVisitor: false });

          // Put a pass with the very same uuid back: the session must have forgotten it.
          const store = new KyselyStore(ctx.passes.config.database, ctx.prefix);
          try {
            const now = clock.now();
            await store.insert({
              uuid: visitor.uuid,
              firstName: visitor.firstName,
              lastName: visitor.lastName,
              email: visitor.email,
              scope: visitor.scope,
              context: null,
              createdAt: now,
              lastUpdatedAt: now,
              expiresAt: null,
              isActive: true,
              sessionExpiry: 0,
              maxUses: null,
              uses: 0,
            });
          } finally {
            await store.close();
          }
          expect((await ctx.passes.get(visitor.uuid))?.isValid).toBe(true);
          expect((await vera.get("/reference")).status).toBe(403);
          expect(await whoami(vera)).toEqual({ visitor: null, isVisitor: false });
          // The restored pass itself works for a new click.
          const fresh = ctx.client();
          expect((await click(fresh, ctx.passes, visitor.uuid)).status).toBe(302);
          expect(await whoami(fresh)).toEqual({ visitor: visitor.uuid, isVisitor: true });
        });
      });
    });
  });
});
