import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VisitorStore } from "../../src/store/store.js";
import { STORES } from "../support/databases.js";
import { removeSqliteFiles, secondStore, useStorage } from "./support.js";

afterAll(removeSqliteFiles);

const RACERS = 40;

for (const database of STORES) {
  describe.skipIf(!database.url)(`admit on ${database.name}`, () => {
    const storage = useStorage(database);
    /** A second store on the same passes (for SQLite: a second connection to the same file). */
    let other: VisitorStore;
    beforeAll(() => {
      other = secondStore(storage.passes, storage.prefix);
    });
    afterAll(async () => {
      await other?.close();
    });

    const create = (input: { maxUses?: number | null; expiresAt?: Date | null } = {}) =>
      storage.passes.create({ email: "guest@example.org", scope: "ADMIT", ...input });

    it("spends one use and returns the pass as it now is", async () => {
      const { store, passes, clock } = storage;
      const pass = await create({ maxUses: 5 });
      const admitted = await store.admit(pass.uuid, clock.now());
      expect(admitted?.uses).toBe(1);
      expect(admitted?.id).toBe(pass.id);
      expect(admitted).toEqual(await store.findByUuid(pass.uuid));
      expect((await passes.get(pass.uuid))?.uses).toBe(1);
    });

    it("admits without limit when maxUses is null, and with a null expiresAt", async () => {
      const { store, passes, clock } = storage;
      const pass = await create({ maxUses: null, expiresAt: null });
      for (let i = 1; i <= 5; i++) {
        expect((await store.admit(pass.uuid, clock.now()))?.uses).toBe(i);
      }
      expect((await passes.get(pass.uuid))?.uses).toBe(5);
    });

    it("refuses an inactive pass without spending a use", async () => {
      const { store, passes, clock } = storage;
      const pass = await create();
      await passes.deactivate(pass.uuid);
      expect(await store.admit(pass.uuid, clock.now())).toBeNull();
      expect((await passes.get(pass.uuid))?.uses).toBe(0);
      await passes.reactivate(pass.uuid);
      expect((await store.admit(pass.uuid, clock.now()))?.uses).toBe(1);
    });

    it("refuses a pass expired at `now` (the instant itself included)", async () => {
      const { store, passes, clock } = storage;
      const now = clock.now();
      const at = (ms: number) => create({ expiresAt: new Date(now.getTime() + ms) });
      const [past, exact, future] = await Promise.all([at(-1), at(0), at(1)]);
      expect(await store.admit(past!.uuid, now)).toBeNull();
      expect(await store.admit(exact!.uuid, now)).toBeNull();
      expect((await store.admit(future!.uuid, now))?.uses).toBe(1);
      expect((await passes.get(past!.uuid))?.uses).toBe(0);
      expect((await passes.get(exact!.uuid))?.uses).toBe(0);
    });

    it("refuses a used-up pass", async () => {
      const { store, passes, clock } = storage;
      const pass = await create({ maxUses: 2 });
      expect((await store.admit(pass.uuid, clock.now()))?.uses).toBe(1);
      expect((await store.admit(pass.uuid, clock.now()))?.uses).toBe(2);
      expect(await store.admit(pass.uuid, clock.now())).toBeNull();
      expect((await passes.get(pass.uuid))?.uses).toBe(2);
    });

    it("refuses an unknown uuid", async () => {
      expect(await storage.store.admit(randomUUID(), storage.clock.now())).toBeNull();
    });

    /** RACERS admits at once, alternating between the two stores; the passes they returned. */
    async function race(uuid: string) {
      const now = storage.clock.now();
      const results = await Promise.all(
        Array.from({ length: RACERS }, (_, i) => (i % 2 ? other : storage.store).admit(uuid, now)),
      );
      return results.filter((result) => result !== null);
    }

    it(`of ${RACERS} simultaneous admits on a one-use pass, exactly one succeeds`, async () => {
      const pass = await create({ maxUses: 1 });
      const admitted = await race(pass.uuid);
      expect(admitted).toHaveLength(1);
      expect(admitted[0]?.uses).toBe(1);
      expect((await storage.passes.get(pass.uuid))?.uses).toBe(1);
    });

    it(`of ${RACERS} simultaneous admits on a three-use pass, exactly three succeed`, async () => {
      const pass = await create({ maxUses: 3 });
      const admitted = await race(pass.uuid);
      expect(admitted.map((v) => v.uses).sort()).toEqual([1, 2, 3]);
      expect((await storage.passes.get(pass.uuid))?.uses).toBe(3);
    });

    it(`${RACERS} simultaneous admits on an unlimited pass lose no use`, async () => {
      const pass = await create({ maxUses: null });
      const admitted = await race(pass.uuid);
      expect(admitted.map((v) => v.uses).sort((a, b) => a - b)).toEqual(
        Array.from({ length: RACERS }, (_, i) => i + 1),
      );
      expect((await storage.passes.get(pass.uuid))?.uses).toBe(RACERS);
    });
  });

  describe.skipIf(!database.url)(`claim on ${database.name}`, () => {
    const storage = useStorage(database);
    let other: VisitorStore;
    beforeAll(() => {
      other = secondStore(storage.passes, storage.prefix);
    });
    afterAll(async () => {
      await other?.close();
    });

    const pending = async () => {
      const pass = await storage.passes.create({ email: "pending@example.org", scope: "CLAIM" });
      await storage.passes.deactivate(pass.uuid);
      return pass;
    };

    it("activates an inactive pass under a new token, with the changes", async () => {
      const { store, passes, clock } = storage;
      const pass = await pending();
      const token = randomUUID();
      const at = clock.advance(1000);
      const claimed = await store.claim(pass.uuid, token, {
        firstName: "Fred",
        email: "fred@example.org",
        context: { selfService: true },
        lastUpdatedAt: at,
      });
      expect(claimed).toMatchObject({
        id: pass.id,
        uuid: token,
        isActive: true,
        firstName: "Fred",
        email: "fred@example.org",
        context: { selfService: true },
        lastUpdatedAt: at,
      });
      expect(claimed).toEqual(await store.findByUuid(token));
      // The old token no longer admits, but still names the pass it became.
      expect(await store.findByUuid(pass.uuid)).toBeNull();
      expect(await store.findByFormUuid(pass.uuid)).toEqual(claimed);
      expect((await passes.get(pass.uuid))?.uuid).toBe(token);
    });

    it("refuses an active pass and an unknown one", async () => {
      const { store, passes } = storage;
      const active = await passes.create({ email: "active@example.org", scope: "CLAIM" });
      const token = randomUUID();
      expect(await store.claim(active.uuid, token, { firstName: "X" })).toBeNull();
      expect((await passes.get(active.uuid))?.firstName).toBe("");
      expect(await store.findByUuid(token)).toBeNull();
      expect(await store.claim(randomUUID(), randomUUID(), {})).toBeNull();
    });

    it(`of ${RACERS} simultaneous claims, exactly one wins`, async () => {
      const { store } = storage;
      const pass = await pending();
      const tokens = Array.from({ length: RACERS }, () => randomUUID());
      const results = await Promise.all(
        tokens.map((token, i) => (i % 2 ? other : store).claim(pass.uuid, token, {})),
      );
      const winners = results.filter((result) => result !== null);
      expect(winners).toHaveLength(1);
      const found = await Promise.all(tokens.map((token) => store.findByUuid(token)));
      expect(found.filter((result) => result !== null)).toEqual(winners);
    });
  });
}
