import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VisitorPass } from "../../src/index.js";
import { openPasses, STORES } from "../support/databases.js";

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

describe.each(STORES)('tokenStorage: "hash" on $name', (database) => {
  let passes: VisitorPass;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    if (!database.url) return;
    ({ passes, cleanup } = await openPasses(database, { tokenStorage: "hash" }));
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it.skipIf(!database.url)(
    "stores the 64-character digest and finds the pass by token",
    async () => {
      const visitor = await passes.create({
        email: "ginger@example.org",
        scope: "REF",
        maxUses: 1,
      });
      const [listed] = await passes.list({ search: "ginger" });
      expect(listed?.uuid).toBe(sha256(visitor.uuid));
      expect((await passes.get(visitor.uuid))?.email).toBe("ginger@example.org");
      expect((await passes.deactivate(sha256(visitor.uuid)))?.isActive).toBe(false);
      expect((await passes.reactivate(visitor.uuid))?.uuid).toBe(visitor.uuid);
    },
  );
});
