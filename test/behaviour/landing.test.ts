import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { HARNESSES } from "./harness.js";
import { click, matrix, newPass, useApp, uses, whoami } from "./support.js";

/** Admission, restore from the session, scope and the final step: on every database. */
describe.each(matrix(HARNESSES))("landing and session: %s", (_label, harness, database) => {
  describe.skipIf(!database.url)(`(${database.skipped ?? "configured"})`, () => {
    const ctx = useApp(harness, database);

    describe("tokens that do not admit", () => {
      it("an unknown token goes on as anonymous", async () => {
        const client = ctx.client("manual");
        const token = randomUUID();
        const home = await client.get(`/?vuid=${token}`);
        expect(home.status).toBe(200);
        expect(await home.text()).toBe("home");
        expect((await client.get(`/reference?vuid=${token}`)).status).toBe(403);
        expect(await whoami(client)).toEqual({ visitor: null, isVisitor: false });
      });

      it("a deactivated pass's token goes on as anonymous", async () => {
        const visitor = await newPass(ctx.passes);
        await ctx.passes.deactivate(visitor.uuid);
        const client = ctx.client("manual");
        const home = await client.get(ctx.passes.tokenise("/", visitor));
        expect(home.status).toBe(200);
        expect(await home.text()).toBe("home");
        const guarded = await client.json(ctx.passes.tokenise("/reference", visitor));
        expect(guarded).toEqual({
          status: 403,
          body: expect.objectContaining({ error: "VisitorAccessDenied", status: 403 }),
        });
        expect(await whoami(client)).toEqual({ visitor: null, isVisitor: false });
        expect(await uses(ctx.passes, visitor.uuid)).toBe(0);
      });

      it("an expired link goes on as anonymous", async () => {
        const visitor = await newPass(ctx.passes, { expiresAt: new Date(Date.now() - 60_000) });
        const client = ctx.client("manual");
        expect((await client.get(ctx.passes.tokenise("/public", visitor))).status).toBe(200);
        expect((await client.get(ctx.passes.tokenise("/reference", visitor))).status).toBe(403);
        expect(await whoami(client)).toEqual({ visitor: null, isVisitor: false });
        expect(await uses(ctx.passes, visitor.uuid)).toBe(0);
      });
    });

    describe("landing", () => {
      it("redirects a GET to the same URL without the token, other parameters kept", async () => {
        const visitor = await newPass(ctx.passes);
        const client = ctx.client("manual");
        const landing = await client.get(`/reference?x=1&vuid=${visitor.uuid}&y=2`);
        expect(landing.status).toBe(302);
        expect(landing.headers.get("location")).toBe("/reference?x=1&y=2");
        expect(landing.headers.get("referrer-policy")).toBe("no-referrer");
        expect(await client.cookie(ctx.app.sessionCookie)).toBeTruthy();
        expect(await uses(ctx.passes, visitor.uuid)).toBe(1);

        const followed = await client.json("/reference?x=1&y=2");
        expect(followed).toEqual({
          status: 200,
          body: { visitor: visitor.uuid, isVisitor: true, fullName: visitor.fullName },
        });
        expect(await whoami(client)).toEqual({ visitor: visitor.uuid, isVisitor: true });
      });

      it("keeps the other parameters byte for byte and accepts the token in capitals", async () => {
        const visitor = await newPass(ctx.passes);
        const client = ctx.client("manual");
        const landing = await client.get(
          `/reference?q=a%20b%26c&vuid=${visitor.uuid.toUpperCase()}&e=%C3%A9`,
        );
        expect(landing.status).toBe(302);
        expect(landing.headers.get("location")).toBe("/reference?q=a%20b%26c&e=%C3%A9");
        expect(await whoami(client)).toEqual({ visitor: visitor.uuid, isVisitor: true });
      });

      it("following the redirect lands on the page, admitted", async () => {
        const visitor = await newPass(ctx.passes);
        const client = ctx.client();
        const response = await client.get(ctx.passes.tokenise("/reference", visitor));
        expect(response.status).toBe(200);
        expect(response.redirected).toBe(true);
        expect(await response.json()).toMatchObject({ visitor: visitor.uuid, isVisitor: true });
      });

      it("a POST with a token admits nobody and spends nothing (only a GET lands)", async () => {
        const visitor = await newPass(ctx.passes);
        const client = ctx.client("manual");
        const landing = await client.json(ctx.passes.tokenise("/reference", visitor), {
          method: "POST",
        });
        expect(landing.status).toBe(403);
        expect(await whoami(client)).toEqual({ visitor: null, isVisitor: false });
        expect(await uses(ctx.passes, visitor.uuid)).toBe(0);
      });
    });

    describe("session", () => {
      it("lets her through GET and POST guarded routes without the token, and no one else", async () => {
        const visitor = await newPass(ctx.passes);
        const vera = ctx.client();
        await click(vera, ctx.passes, visitor);
        for (let i = 0; i < 3; i++) {
          expect((await vera.json("/reference")).body).toMatchObject({ visitor: visitor.uuid });
          expect((await vera.json("/reference", { method: "POST" })).status).toBe(200);
        }
        const other = ctx.client();
        expect((await other.get("/reference")).status).toBe(403);
        expect((await other.post("/reference")).status).toBe(403);
        expect(await whoami(other)).toEqual({ visitor: null, isVisitor: false });
        expect(await uses(ctx.passes, visitor.uuid)).toBe(1);
      });

      it("rotates the session id at admission; the old id grants nothing; session data survives", async () => {
        const { serverSession } = harness.capabilities;
        const visitor = await newPass(ctx.passes);
        const vera = ctx.client();
        expect(await (await vera.get("/anon-data")).text()).toBe("stored");
        const before = await vera.cookie(ctx.app.sessionCookie);
        // Everything the browser holds before admission, to replay afterwards.
        const held = await vera.jar.getCookieString(ctx.app.url);
        if (serverSession) expect(before).toBeTruthy();
        // A cookie stash only ever holds a visitor: there is none before admission.
        else expect(before).toBeUndefined();

        await click(vera, ctx.passes, visitor);
        const after = await vera.cookie(ctx.app.sessionCookie);
        expect(after).toBeTruthy();
        expect(after).not.toBe(before);
        expect((await vera.json("/cart")).body).toEqual({ cart: "kept" });
        expect(await whoami(vera)).toEqual({ visitor: visitor.uuid, isVisitor: true });

        const replay = { headers: { cookie: held } };
        const guarded = await fetch(`${ctx.app.url}/reference`, replay);
        expect(guarded.status).toBe(403);
        const who = await fetch(`${ctx.app.url}/whoami`, replay);
        expect(await who.json()).toEqual({ visitor: null, isVisitor: false });
        const cart = await fetch(`${ctx.app.url}/cart`, replay);
        // A server-side session moved its data to the new id: the old id holds nothing now.
        // Without one, the app's data is in cookies of its own, which admission leaves alone.
        expect(await cart.json()).toEqual({ cart: serverSession ? null : "kept" });
      });
    });

    describe("scope", () => {
      it("a pass of another scope is refused on the scoped route but admitted with SCOPE_ANY", async () => {
        const visitor = await newPass(ctx.passes, { scope: "OTHER_SCOPE" });
        const client = ctx.client();
        await click(client, ctx.passes, visitor, "/any");
        expect(await whoami(client)).toEqual({ visitor: visitor.uuid, isVisitor: true });
        expect((await client.json("/reference")).status).toBe(403);
        expect((await client.json("/any")).body).toMatchObject({ visitor: visitor.uuid });
      });

      it("bypass admits anyone with the header; without it an anonymous request is refused", async () => {
        const client = ctx.client();
        expect(await client.json("/staff", { headers: { "x-staff": "yes" } })).toEqual({
          status: 200,
          body: { visitor: null, isVisitor: false, fullName: null },
        });
        expect((await client.get("/staff")).status).toBe(403);
        expect((await client.get("/staff", { headers: { "x-staff": "no" } })).status).toBe(403);
      });
    });

    describe("final step", () => {
      it("clearVisitor ends access for the session; the pass stays active", async () => {
        const visitor = await newPass(ctx.passes);
        const vera = ctx.client();
        await click(vera, ctx.passes, visitor);
        expect((await vera.get("/reference")).status).toBe(200);

        const finish = await vera.post("/reference/finish");
        expect(finish.status).toBe(200);
        expect(await finish.text()).toBe("done");
        expect((await vera.get("/reference")).status).toBe(403);
        expect((await vera.post("/reference")).status).toBe(403);
        expect(await whoami(vera)).toEqual({ visitor: null, isVisitor: false });

        expect((await ctx.passes.get(visitor.uuid))?.isActive).toBe(true);
        const again = ctx.client();
        expect((await click(again, ctx.passes, visitor)).status).toBe(302);
        expect((await again.json("/reference")).body).toMatchObject({ visitor: visitor.uuid });
      });
    });
  });
});
