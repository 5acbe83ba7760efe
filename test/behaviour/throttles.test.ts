import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { HARNESSES } from "./harness.js";
import { click, matrix, newPass, useApp, uses, whoami } from "./support.js";

/** The budget of failed landings per client network: through each framework's adapter. */
describe.each(matrix(HARNESSES))("landing throttle: %s", (_label, harness, database) => {
  describe.skipIf(!database.url)(`(${database.skipped ?? "configured"})`, () => {
    describe("a budget of 3 failed landings a minute", () => {
      const ctx = useApp(harness, database, { throttle: { landing: { points: 3, duration: 60 } } });

      it("then answers 429 with Retry-After to every link from that network, a valid one's too", async () => {
        const visitor = await newPass(ctx.passes);
        // A landing that admits counts nothing.
        for (let i = 0; i < 4; i++) {
          expect((await click(ctx.client(), ctx.passes, visitor)).status).toBe(302);
        }
        const inactive = await newPass(ctx.passes);
        await ctx.passes.deactivate(inactive.uuid);
        for (const token of [randomUUID(), inactive.uuid, randomUUID()]) {
          const guesser = ctx.client("manual");
          const refused = await guesser.get(ctx.passes.tokenise("/reference", token));
          await refused.arrayBuffer();
          expect(refused.status).toBe(403);
          expect(await whoami(guesser)).toEqual({ visitor: null, isVisitor: false });
        }
        for (const token of [visitor.uuid, randomUUID()]) {
          const client = ctx.client("manual");
          const throttled = await client.get(ctx.passes.tokenise("/reference", token));
          expect(throttled.status).toBe(429);
          expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
          expect(await throttled.text()).toContain("Too many requests");
          expect(await whoami(client)).toEqual({ visitor: null, isVisitor: false });
        }
        expect(await uses(ctx.passes, visitor.uuid)).toBe(4);
        // Requests without a token are not throttled.
        expect((await ctx.client().get("/public")).status).toBe(200);
      });
    });

    describe("the app's throttledPage", () => {
      const ctx = useApp(harness, database, {
        throttle: { landing: { points: 1, duration: 60 } },
        throttledPage: ({ retryAfter }) =>
          `<!doctype html><title>Slow down</title><p>Back in ${retryAfter} s.</p>`,
      });

      it("is the 429 page of a throttled landing, with its Retry-After", async () => {
        const guesser = ctx.client("manual");
        await (await guesser.get(ctx.passes.tokenise("/reference", randomUUID()))).arrayBuffer();
        const throttled = await guesser.get(ctx.passes.tokenise("/reference", randomUUID()));
        expect(throttled.status).toBe(429);
        const retryAfter = Number(throttled.headers.get("retry-after"));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(throttled.headers.get("content-type")).toMatch(/^text\/html/);
        expect(await throttled.text()).toContain(`<p>Back in ${retryAfter} s.</p>`);
      });
    });

    describe("throttle: false", () => {
      const ctx = useApp(harness, database, { throttle: false });

      it("counts no failed landing", async () => {
        for (let i = 0; i < 35; i++) {
          expect((await click(ctx.client(), ctx.passes, randomUUID(), "/public")).status).toBe(200);
        }
        const visitor = await newPass(ctx.passes);
        expect((await click(ctx.client(), ctx.passes, visitor)).status).toBe(302);
      });
    });
  });
});
