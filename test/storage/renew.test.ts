import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VisitorStore } from "../../src/store/store.js";
import { STORES } from "../support/databases.js";
import { removeSqliteFiles, secondStore, useStorage } from "./support.js";

afterAll(removeSqliteFiles);

const RACERS = 20;

for (const database of STORES) {
  describe.skipIf(!database.url)(`renew (fresh links) on ${database.name}`, () => {
    const storage = useStorage(database);
    /** A second store on the same passes (for SQLite: a second connection to the same file). */
    let other: VisitorStore;
    beforeAll(() => {
      other = secondStore(storage.passes, storage.prefix);
    });
    afterAll(async () => {
      await other?.close();
    });

    const ago = (seconds: number) => new Date(storage.clock.now().getTime() - seconds * 1000);
    const later = (seconds: number) => new Date(storage.clock.now().getTime() + seconds * 1000);
    const create = (input: { maxUses?: number | null; expiresAt?: Date | null } = {}) =>
      storage.passes.create({ email: "guest@example.org", scope: "RENEW", ...input });

    it("gives an expired pass a new token, expiry and its uses back; the old token names nothing", async () => {
      const { store, clock } = storage;
      const pass = await create({ expiresAt: ago(10), maxUses: 3 });
      const newUuid = randomUUID();
      const renewed = await store.renew!(pass.uuid, newUuid, clock.now(), later(300));
      expect(renewed).toMatchObject({ id: pass.id, uuid: newUuid, uses: 0, isActive: true });
      expect(renewed?.expiresAt).toEqual(later(300));
      expect(renewed).toEqual(await store.findByUuid(newUuid));
      expect(await store.findByUuid(pass.uuid)).toBeNull();
      expect(await store.admit(pass.uuid, clock.now())).toBeNull();
      expect((await store.admit(newUuid, clock.now()))?.uses).toBe(1);
    });

    it("renews a used-up pass that has not expired", async () => {
      const { store, clock } = storage;
      const pass = await create({ maxUses: 1, expiresAt: null });
      expect(await store.admit(pass.uuid, clock.now())).not.toBeNull();
      const renewed = await store.renew!(pass.uuid, randomUUID(), clock.now(), later(60));
      expect(renewed?.uses).toBe(0);
      expect(renewed?.maxUses).toBe(1);
    });

    it("never renews a link that still admits, a deactivated pass or an unknown one", async () => {
      const { store, passes, clock } = storage;
      const valid = await create({ expiresAt: later(60), maxUses: 2 });
      expect(await store.renew!(valid.uuid, randomUUID(), clock.now(), later(300))).toBeNull();
      const deactivated = await create({ expiresAt: ago(10) });
      await passes.deactivate(deactivated.uuid);
      expect(
        await store.renew!(deactivated.uuid, randomUUID(), clock.now(), later(300)),
      ).toBeNull();
      expect(await store.findByUuid(deactivated.uuid)).toMatchObject({ isActive: false });
      expect(await store.renew!(randomUUID(), randomUUID(), clock.now(), later(300))).toBeNull();
      expect(await store.findByUuid(valid.uuid)).toMatchObject({ uses: 0 });
    });

    it(`of ${RACERS} simultaneous renewals of one pass, exactly one wins`, async () => {
      const { store, clock } = storage;
      const pass = await create({ expiresAt: ago(10) });
      const tokens = Array.from({ length: RACERS }, () => randomUUID());
      const results = await Promise.all(
        tokens.map((token, i) =>
          (i % 2 ? other : store).renew!(pass.uuid, token, clock.now(), later(300)),
        ),
      );
      const winners = results.filter((result) => result !== null);
      expect(winners).toHaveLength(1);
      const live = (await Promise.all(tokens.map((token) => store.findByUuid(token)))).filter(
        (found) => found !== null,
      );
      expect(live).toHaveLength(1);
      expect(live[0]?.uuid).toBe(winners[0]?.uuid);
    });

    it("keeps freshLinks: true of a pass created with it", async () => {
      const { passes, store } = storage;
      const pass = await passes.create({
        email: "guest@example.org",
        scope: "RENEW",
        freshLinks: true,
      });
      expect(pass.freshLinks).toBe(true);
      expect((await store.findByUuid(pass.uuid))?.freshLinks).toBe(true);
      expect((await passes.get(pass.uuid))?.freshLinks).toBe(true);
      expect((await create()).freshLinks).toBe(false);
    });
  });
}
