import { describe, expect, it } from "vitest";
import { HARNESSES } from "./harness.js";
import { click, matrix, newPass, useApp } from "./support.js";

describe.each(matrix(HARNESSES))("visit logs under load: %s", (_label, harness, database) => {
  describe.skipIf(!database.url)(`(${database.skipped ?? "configured"})`, () => {
    const ctx = useApp(harness, database);

    it("N concurrent guarded requests write exactly N visit logs", async () => {
      const visitor = await newPass(ctx.passes);
      const ginger = ctx.client("manual");
      await click(ginger, ctx.passes, visitor);
      const requests = 200;
      const statuses = await Promise.all(
        Array.from({ length: requests }, async (_, index) => {
          const response = await ginger.get(`/reference?n=${index}`);
          await response.arrayBuffer();
          return response.status;
        }),
      );
      expect(statuses.every((status) => status === 200)).toBe(true);
      const logs = await ctx.passes.logs(visitor.uuid);
      expect(logs).toHaveLength(requests);
      expect(new Set(logs.map((log) => log.queryString)).size).toBe(requests);
    });
  });
});
