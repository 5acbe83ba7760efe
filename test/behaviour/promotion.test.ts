import { describe, expect, it } from "vitest";
import { HARNESSES } from "./harness.js";
import { click, matrix, newPass, useApp, whoami } from "./support.js";

/** A visitor promoted to an account: the visitor access ends, in every adapter. */
describe.each(matrix(HARNESSES))("promotion: %s", (_label, harness, database) => {
  describe.skipIf(!database.url)(`(${database.skipped ?? "configured"})`, () => {
    const ctx = useApp(harness, database, {
      throttle: { landing: { points: 1000, duration: 60 } },
    });

    it("a visitor in session is refused (403) on the very next request after promote", async () => {
      const visitor = await newPass(ctx.passes);
      const vera = ctx.client();
      await click(vera, ctx.passes, visitor);
      expect((await vera.get("/reference")).status).toBe(200);

      const promoted = await ctx.passes.promote(visitor.uuid, { userId: "user-7" });
      expect(promoted?.promotedTo).toBe("user-7");
      expect((await vera.get("/reference")).status).toBe(403);
      expect(await whoami(vera)).toEqual({ visitor: null, isVisitor: false });
    });

    it("a landing with the promoted pass's link admits nobody, and reactivate is refused", async () => {
      const visitor = await newPass(ctx.passes);
      await ctx.passes.promote(visitor.uuid, { userId: "user-8" });
      const fresh = ctx.client("manual");
      const landing = await fresh.get(ctx.passes.tokenise("/reference", visitor));
      expect(landing.status).toBe(403);
      expect(await whoami(fresh)).toEqual({ visitor: null, isVisitor: false });
      await expect(ctx.passes.reactivate(visitor.uuid)).rejects.toMatchObject({
        code: "VISITOR_PASS_PROMOTED",
      });
      const again = ctx.client("manual");
      expect((await again.get(ctx.passes.tokenise("/reference", visitor))).status).toBe(403);
      expect((await ctx.passes.get(visitor.uuid))?.uses).toBe(0);
    });

    it("the pass keeps its logs for the new account to read", async () => {
      const visitor = await newPass(ctx.passes);
      const vera = ctx.client();
      await click(vera, ctx.passes, visitor);
      expect((await vera.get("/reference")).status).toBe(200);
      await ctx.passes.promote(visitor.uuid, { userId: "user-9" });
      const [mine] = await ctx.passes.promotedTo("user-9");
      expect(mine?.id).toBe(visitor.id);
      const logs = await ctx.passes.logs(mine!.uuid);
      expect(logs.map((log) => log.requestUri)).toContain("/reference");
    });
  });
});
