import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { VisitorPassConfigError } from "../../src/index.js";
import { openPasses } from "../support/databases.js";
import { setCookies } from "./client.js";
import { HARNESSES } from "./harness.js";
import { click, newPass, SQLITE, useApp, uses, whoami } from "./support.js";

const MALFORMED = "Malformed visitor token.";

/** The HTTP shape of the flow; storage plays no part here, so SQLite only. */
describe.each(HARNESSES)("HTTP shape: $name", (harness) => {
  describe("standard app", () => {
    const ctx = useApp(harness, SQLITE);

    describe("no token", () => {
      it("public pages work, guarded routes answer 403, nobody is a visitor", async () => {
        const client = ctx.client();
        const home = await client.get("/");
        expect(home.status).toBe(200);
        expect(await home.text()).toBe("home");
        expect(await (await client.get("/public")).text()).toBe("public");
        for (const path of ["/reference", "/any", "/nolog", "/teapot", "/staff"]) {
          expect(await client.json(path)).toEqual({
            status: 403,
            body: expect.objectContaining({ error: "VisitorAccessDenied", status: 403 }),
          });
        }
        expect((await client.post("/reference")).status).toBe(403);
        expect((await client.post("/reference/finish")).status).toBe(403);
        expect(await whoami(client)).toEqual({ visitor: null, isVisitor: false });
      });
    });

    describe("malformed tokens", () => {
      const malformed = [
        ["a word", "vuid=nope"],
        ["an empty value", "vuid="],
        ["a bare key", "vuid"],
        ["two different uuids", `vuid=${randomUUID()}&vuid=${randomUUID()}`],
        ["a uuid with something after it", `vuid=${randomUUID()}x`],
      ];
      it.each(malformed)("%s answers 400 on any route", async (_what, query) => {
        const client = ctx.client("manual");
        for (const path of ["/", "/reference", "/whoami"]) {
          const response = await client.get(`${path}?${query}`);
          expect(response.status).toBe(400);
          expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
          expect(await response.text()).toBe(MALFORMED);
          expect(setCookies(response)).toEqual([]);
        }
      });

      it("the same token twice is not malformed", async () => {
        const visitor = await newPass(ctx.passes);
        const client = ctx.client("manual");
        const response = await client.get(`/reference?vuid=${visitor.uuid}&vuid=${visitor.uuid}`);
        expect(response.status).toBe(302);
        expect(response.headers.get("location")).toBe("/reference");
      });

      it("a malformed token on a POST is refused too, spending nothing", async () => {
        const client = ctx.client("manual");
        const response = await client.post("/reference?vuid=nope");
        expect(response.status).toBe(400);
        expect(await response.text()).toBe(MALFORMED);
      });
    });

    describe("HEAD and OPTIONS never admit", () => {
      it.each(["HEAD", "OPTIONS"])("%s with a valid token", async (method) => {
        const visitor = await newPass(ctx.passes);
        const client = ctx.client("manual");
        for (const path of ["/", "/reference", "/whoami"]) {
          const response = await client.request(ctx.passes.tokenise(path, visitor), { method });
          await response.arrayBuffer();
          expect(response.status).not.toBe(302);
          expect(response.status).toBeLessThan(500);
          expect(setCookies(response)).toEqual([]);
        }
        const guarded = await client.request(ctx.passes.tokenise("/reference", visitor), {
          method,
        });
        if (method === "HEAD") expect(guarded.status).toBe(403);
        expect(await client.cookie(ctx.app.sessionCookie)).toBeUndefined();
        expect(await uses(ctx.passes, visitor.uuid)).toBe(0);
        expect(await whoami(client)).toEqual({ visitor: null, isVisitor: false });
        // The link still works for the person who clicks it after the scanner.
        expect((await click(client, ctx.passes, visitor)).status).toBe(302);
        expect(await uses(ctx.passes, visitor.uuid)).toBe(1);
      });
    });

    describe("tokens out of the app's own logs", () => {
      it("a POST with a token reaches app middleware without the token", async () => {
        const visitor = await newPass(ctx.passes);
        const client = ctx.client("manual");
        const seen = await client.json(`/seen-url?a=1&vuid=${visitor.uuid}&b=2`, {
          method: "POST",
        });
        expect(seen.status).toBe(200);
        expect(seen.body.originalUrl).toBe("/seen-url?a=1&b=2");
        expect(seen.body.url).toBe("/seen-url?a=1&b=2");
        expect(seen.body.query).toEqual({ a: "1", b: "2" });
      });

      it("an unknown token is kept out too", async () => {
        const client = ctx.client("manual");
        const seen = await client.json(`/seen-url?vuid=${randomUUID()}&a=1`);
        expect(seen.status).toBe(200);
        expect(seen.body.originalUrl).toBe("/seen-url?a=1");
      });
    });

    describe("setup", () => {
      it("userIsVisitor with an empty scope throws at setup", () => {
        for (const scope of ["", "   "]) {
          expect(() => harness.guard({ scope })).toThrow(VisitorPassConfigError);
        }
        expect(() => harness.guard(undefined as never)).toThrow(VisitorPassConfigError);
      });
    });
  });

  describe("landingRedirect: false", () => {
    const ctx = useApp(harness, SQLITE, { landingRedirect: false });

    it("app middleware mounted after the visitor middleware never sees the token", async () => {
      const visitor = await newPass(ctx.passes);
      const client = ctx.client("manual");
      const seen = await client.json(`/seen-url?a=1&vuid=${visitor.uuid}&b=2`);
      expect(seen.status).toBe(200);
      expect(seen.body).toEqual({
        originalUrl: "/seen-url?a=1&b=2",
        url: "/seen-url?a=1&b=2",
        query: { a: "1", b: "2" },
      });
      expect(await whoami(client)).toEqual({ visitor: visitor.uuid, isVisitor: true });
    });
  });

  describe.runIf(harness.capabilities.splitMiddleware)(
    "visitorRequest and visitorSession mounted separately",
    () => {
      const ctx = useApp(harness, SQLITE, {}, { setup: "split" });

      it("admit and restore as visitorPass does", async () => {
        const visitor = await newPass(ctx.passes);
        const client = ctx.client("manual");
        const landing = await click(client, ctx.passes, visitor);
        expect(landing.status).toBe(302);
        expect((await client.json("/reference")).body).toMatchObject({ visitor: visitor.uuid });
      });
    },
  );

  describe("setup mistakes fail loudly, and the server keeps answering", () => {
    const { missingSession, sessionPackage } = harness.capabilities;

    describe.runIf(missingSession === "request")(`visitorSession without ${sessionPackage}`, () => {
      const ctx = useApp(harness, SQLITE, {}, { setup: "no-session" });

      it(`passes a VISITOR_PASS_SETUP error naming ${sessionPackage} to the error handler`, async () => {
        const client = ctx.client();
        for (let i = 0; i < 2; i++) {
          const { status, body } = await client.json("/");
          expect(status).toBe(500);
          expect(body).toMatchObject({ error: "VisitorPassError", code: "VISITOR_PASS_SETUP" });
          expect(body.message).toContain(sessionPackage);
        }
      });
    });

    describe.runIf(missingSession === "startup")(`visitorPass without ${sessionPackage}`, () => {
      it(`the app does not start: the framework's dependency error names ${sessionPackage}`, async () => {
        const { passes, cleanup } = await openPasses(SQLITE);
        try {
          await expect(harness.start(passes, { setup: "no-session" })).rejects.toThrow(
            sessionPackage!,
          );
        } finally {
          await cleanup();
        }
      });
    });

    describe.runIf(harness.capabilities.splitMiddleware)(
      "visitorSession without visitorRequest before it",
      () => {
        const ctx = useApp(harness, SQLITE, {}, { setup: "session-without-request" });

        it("passes a VISITOR_PASS_SETUP error naming visitorRequest", async () => {
          const client = ctx.client();
          for (let i = 0; i < 2; i++) {
            const { status, body } = await client.json("/");
            expect(status).toBe(500);
            expect(body).toMatchObject({ error: "VisitorPassError", code: "VISITOR_PASS_SETUP" });
            expect(body.message).toMatch(/visitorRequest/);
          }
        });
      },
    );

    describe.runIf(harness.capabilities.guardMiddleware)(
      "userIsVisitor without the visitor middleware",
      () => {
        const ctx = useApp(harness, SQLITE, {}, { setup: "guard-without-middleware" });

        it("guarded routes fail with a VISITOR_PASS_SETUP error; public ones work", async () => {
          const client = ctx.client();
          for (let i = 0; i < 2; i++) {
            const { status, body } = await client.json("/reference");
            expect(status).toBe(500);
            expect(body).toMatchObject({ error: "VisitorPassError", code: "VISITOR_PASS_SETUP" });
            expect(body.message).toMatch(/userIsVisitor\(\)/);
            expect(body.message).toMatch(/visitorRequest|visitorPass/);
          }
          expect(await (await client.get("/")).text()).toBe("home");
        });
      },
    );
  });
});
