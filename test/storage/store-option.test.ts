import { afterAll, describe, expect, it } from "vitest";
import { createVisitorPass, type VisitorStore } from "../../src/index.js";
import { KyselyStore } from "../../src/store/kysely/kysely-store.js";
import { DATABASES } from "../support/databases.js";
import { removeSqliteFiles, useStorage } from "./support.js";

afterAll(removeSqliteFiles);

for (const database of DATABASES) {
  describe.skipIf(!database.url)(`a store handed in (the store option) on ${database.name}`, () => {
    const storage = useStorage(database);

    /** A pass service on a store of the test's own over the same tables, and that store. */
    function handedIn(): { store: VisitorStore; passes: ReturnType<typeof createVisitorPass> } {
      const store = new KyselyStore(storage.passes.config.database, storage.prefix);
      return { store, passes: createVisitorPass({ store, env: {}, now: storage.clock.now }) };
    }

    it("keeps passes in that store: what one service writes, the other reads, and no database is opened", async () => {
      const { passes } = handedIn();
      try {
        expect(passes.config.database).toEqual({ kind: "store" });
        const created = await passes.create({ email: "ada@example.org", scope: "HANDED" });
        const seen = await storage.passes.get(created.uuid);
        expect(seen?.email).toBe("ada@example.org");
        expect(seen?.scope).toBe("HANDED");

        const other = await storage.passes.create({ email: "bob@example.org", scope: "HANDED" });
        await storage.passes.deactivate(other.uuid);
        const read = await passes.get(other.uuid);
        expect(read?.email).toBe("bob@example.org");
        expect(read?.isActive).toBe(false);
        expect(await passes.count({ scope: "HANDED" })).toBe(2);
      } finally {
        await passes.close();
      }
    });

    it("is closed by close(), like a store the service opened itself", async () => {
      const { store, passes } = handedIn();
      const created = await passes.create({ email: "cy@example.org", scope: "HANDED" });
      await passes.close();
      await expect(store.findByUuid(created.uuid)).rejects.toThrow();
      // The tables are untouched: the other service still reads the pass.
      expect((await storage.passes.get(created.uuid))?.email).toBe("cy@example.org");
    });
  });
}
