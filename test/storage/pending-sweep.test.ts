import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import type { NewVisitor } from "../../src/store/store.js";
import { STORES } from "../support/databases.js";
import { removeSqliteFiles, useStorage } from "./support.js";

afterAll(removeSqliteFiles);

/** A row as the store receives it: a pending self-service pass unless `changes` say otherwise. */
function row(expiresAt: Date, changes: Partial<NewVisitor> = {}): NewVisitor {
  return {
    uuid: randomUUID(),
    firstName: "",
    lastName: "",
    email: "",
    scope: "SWEEP",
    context: { selfService: true, redirectTo: "/apply" },
    createdAt: new Date(expiresAt.getTime() - 300_000),
    lastUpdatedAt: new Date(expiresAt.getTime() - 300_000),
    expiresAt,
    isActive: false,
    sessionExpiry: 0,
    maxUses: null,
    uses: 0,
    ...changes,
  };
}

for (const database of STORES) {
  describe.skipIf(!database.url)(`the sweep of expired pending passes on ${database.name}`, () => {
    const storage = useStorage(database);

    it("deletes only expired, never-claimed, never-used pending passes, at most `limit` per statement", async () => {
      const { store } = storage;
      const now = new Date("2031-05-06T07:08:09.123Z");
      const past = new Date(now.getTime() - 1000);
      const expiredPending = [];
      for (let i = 0; i < 5; i++) expiredPending.push(await store.insert(row(past)));
      const kept = [
        // Still open.
        await store.insert(row(new Date(now.getTime() + 60_000))),
        // Ordinary passes, expired: active, or deactivated, with an email.
        await store.insert(row(past, { email: "a@example.org", isActive: true, context: null })),
        await store.insert(row(past, { email: "b@example.org", context: null })),
        // A pending pass someone was let in with (reactivated, used, deactivated again).
        await store.insert(row(past, { uses: 1 })),
      ];
      // A claimed form, deactivated again afterwards.
      const claimed = await store.insert(row(past));
      await store.claim(claimed.uuid, randomUUID(), { email: "c@example.org" });
      const claimedNow = await store.findByFormUuid(claimed.uuid);
      await store.update(claimedNow!.uuid, { isActive: false });

      expect(await store.deleteExpiredPending(now, 3)).toBe(3);
      expect(await store.deleteExpiredPending(now, 3)).toBe(2);
      expect(await store.deleteExpiredPending(now, 3)).toBe(0);
      for (const visitor of expiredPending) expect(await store.findByUuid(visitor.uuid)).toBeNull();
      for (const visitor of kept) expect(await store.findByUuid(visitor.uuid)).not.toBeNull();
      expect(await store.findByFormUuid(claimed.uuid)).not.toBeNull();
    });
  });
}
