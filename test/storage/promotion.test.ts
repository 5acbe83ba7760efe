import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createVisitorPass, PassAlreadyPromoted, PromotedPassError } from "../../src/index.js";
import type { NewVisitorLog } from "../../src/store/store.js";
import { STORES } from "../support/databases.js";
import { removeSqliteFiles, secondStore, useStorage } from "./support.js";

afterAll(removeSqliteFiles);

const RACERS = 12;

function log(visitorId: number, at: Date, statusCode = 200, path = "/page"): NewVisitorLog {
  return {
    visitorId,
    sessionKey: "s1",
    httpMethod: "GET",
    requestUri: path,
    queryString: "",
    httpUserAgent: "test",
    httpReferer: null,
    remoteAddr: "203.0.113.9",
    statusCode,
    timestamp: at,
    idempotencyKey: randomUUID(),
  };
}

for (const database of STORES) {
  describe.skipIf(!database.url)(`promotion on ${database.name}`, () => {
    const storage = useStorage(database);
    const create = (email = "guest@example.org", scope = "PROMOTE") =>
      storage.passes.create({ email, scope, context: { invitedBy: "ada" } });

    it("promotes once, in one statement: turned off, user id and time kept, context kept", async () => {
      const { store, passes, clock } = storage;
      const pass = await create();
      const at = clock.now();
      const result = await store.promote(pass.uuid, "user-1", at);
      expect(result?.outcome).toBe("promoted");
      expect(result?.record).toMatchObject({
        id: pass.id,
        isActive: false,
        promotedTo: "user-1",
        promotedAt: at,
        lastUpdatedAt: at,
        context: { invitedBy: "ada" },
      });
      const stored = await passes.get(pass.uuid);
      expect(stored?.promotedTo).toBe("user-1");
      expect(stored?.promotedAt?.getTime()).toBe(at.getTime());
      expect(stored?.isPromoted).toBe(true);
      expect(stored?.serialize()).toMatchObject({
        promotedTo: "user-1",
        promotedAt: at.toISOString(),
        isActive: false,
        isValid: false,
      });
    });

    it("again to the same id changes nothing; to another id is a conflict that changes nothing", async () => {
      const { store, clock } = storage;
      const pass = await create();
      const first = clock.now();
      await store.promote(pass.uuid, "user-2", first);
      const later = clock.advance(60_000);
      const again = await store.promote(pass.uuid, "user-2", later);
      expect(again?.outcome).toBe("unchanged");
      expect(again?.record.promotedAt?.getTime()).toBe(first.getTime());
      const other = await store.promote(pass.uuid, "user-2 ", later);
      expect(other?.outcome).toBe("conflict");
      expect(other?.record.promotedTo).toBe("user-2");
      expect((await store.findByUuid(pass.uuid))?.promotedTo).toBe("user-2");
    });

    it("of concurrent promotions to different ids exactly one wins", async () => {
      const { store, clock } = storage;
      const pass = await create();
      const results = await Promise.all(
        Array.from({ length: RACERS }, (_, i) =>
          store.promote(pass.uuid, `racer-${i}`, clock.now()),
        ),
      );
      const winners = results.filter((r) => r?.outcome === "promoted");
      expect(winners).toHaveLength(1);
      const winner = winners[0]!.record.promotedTo;
      expect(results.filter((r) => r?.outcome === "conflict")).toHaveLength(RACERS - 1);
      expect((await store.findByUuid(pass.uuid))?.promotedTo).toBe(winner);
    });

    it("another process holding the pass in its cache sees the promotion at its next lookup", async () => {
      const { passes, prefix, clock } = storage;
      const other = createVisitorPass({
        store: secondStore(passes, prefix),
        env: {},
        now: clock.now,
      });
      try {
        const pass = await create();
        expect((await other.get(pass.uuid))?.isValid).toBe(true);
        expect((await other.get(pass.uuid))?.isValid).toBe(true);
        await passes.promote(pass.uuid, { userId: "elsewhere" });
        const seen = await other.get(pass.uuid);
        expect(seen?.isPromoted).toBe(true);
        expect(seen?.isValid).toBe(false);
      } finally {
        await other.close();
      }
    });

    it("returns null for a pass that does not exist", async () => {
      expect(await storage.store.promote(randomUUID(), "user-x", storage.clock.now())).toBeNull();
    });

    it("a promoted pass is never admitted, even turned back on by a raw update", async () => {
      const { store, clock } = storage;
      const pass = await create();
      await store.promote(pass.uuid, "user-3", clock.now());
      expect(await store.admit(pass.uuid, clock.now())).toBeNull();
      await store.update(pass.uuid, { isActive: true });
      expect(await store.admit(pass.uuid, clock.now())).toBeNull();
      expect((await store.findByUuid(pass.uuid))?.uses).toBe(0);
    });

    it("the pass service: promote, promotedTo, list filters, reactivate refused", async () => {
      const { passes } = storage;
      const pass = await create("convert@example.org");
      const promoted = await passes.promote(pass.uuid, { userId: "acct-42" });
      expect(promoted?.promotedTo).toBe("acct-42");
      expect(await passes.promote(pass.uuid, { userId: "acct-42" })).toMatchObject({
        promotedTo: "acct-42",
      });
      await expect(passes.promote(pass.uuid, { userId: "acct-43" })).rejects.toMatchObject({
        name: "PassAlreadyPromoted",
        code: "VISITOR_PASS_ALREADY_PROMOTED",
      });
      await expect(passes.promote(pass.uuid, { userId: "acct-43" })).rejects.toBeInstanceOf(
        PassAlreadyPromoted,
      );
      await expect(passes.reactivate(pass.uuid)).rejects.toBeInstanceOf(PromotedPassError);
      expect((await passes.get(pass.uuid))?.isActive).toBe(false);
      const mine = await passes.promotedTo("acct-42");
      expect(mine.map((v) => v.id)).toEqual([pass.id]);
      expect(mine[0]?.context).toEqual({ invitedBy: "ada" });
      expect(await passes.promotedTo("acct-4")).toEqual([]);
      // Exactly: MySQL's `=` alone would take the trailing space, or another case.
      expect(await passes.promotedTo("acct-42 ")).toEqual([]);
      expect(await passes.promotedTo("ACCT-42")).toEqual([]);
      const promotedIds = (await passes.list({ promoted: true, limit: 1000 })).map((v) => v.id);
      const plainIds = (await passes.list({ promoted: false, limit: 1000 })).map((v) => v.id);
      expect(promotedIds).toContain(pass.id);
      expect(plainIds).not.toContain(pass.id);
      expect(await passes.count({ promotedTo: "acct-42" })).toBe(1);
      await expect(passes.promotedTo("nul\u0000")).rejects.toMatchObject({
        code: "VISITOR_PASS_VALIDATION",
      });
      expect(await passes.list({ promotedTo: "nul\u0000" })).toEqual([]);
    });

    it("searchLogs: every pass's logs newest first, filtered, paged by keyset", async () => {
      const { passes, store, clock } = storage;
      const scope = `LOGS_${randomUUID().slice(0, 8)}`;
      const a = await create("a-logs@example.org", scope);
      const b = await create("b-logs@example.org", scope);
      const other = await create("c-logs@example.org", `${scope}_OTHER`);
      const t0 = clock.now().getTime();
      const at = (minutes: number) => new Date(t0 + minutes * 60_000);
      await store.insertLogs([
        log(a.id, at(1)),
        log(b.id, at(2), 404),
        log(a.id, at(3)),
        log(other.id, at(4)),
        log(b.id, at(5)),
        // Two at the same instant: ordered by id.
        log(a.id, at(6)),
        log(b.id, at(6)),
      ]);
      const all = await passes.searchLogs({ scope, limit: 500 });
      expect(all.logs).toHaveLength(6);
      expect(all.next).toBeNull();
      const times = all.logs.map((l) => l.timestamp.getTime());
      expect(times).toEqual([...times].sort((x, y) => y - x));
      expect(all.logs[0]!.id).toBeGreaterThan(all.logs[1]!.id);
      expect(all.logs[0]).toMatchObject({ email: "b-logs@example.org", scope });

      // Pages of two, joined, are the whole list.
      const seen: number[] = [];
      let before: string | undefined;
      for (let page = 0; page < 10; page++) {
        const result = await passes.searchLogs({ scope, limit: 2, ...(before ? { before } : {}) });
        seen.push(...result.logs.map((l) => l.id));
        if (!result.next) break;
        before = result.next;
      }
      expect(seen).toEqual(all.logs.map((l) => l.id));

      const ofB = await passes.searchLogs({ visitorId: b.id });
      expect(ofB.logs.map((l) => l.visitorId)).toEqual([b.id, b.id, b.id]);
      expect((await passes.searchLogs({ uuid: b.uuid })).logs).toHaveLength(3);
      expect((await passes.searchLogs({ email: "a-logs@example.org" })).logs).toHaveLength(3);
      expect(
        (await passes.searchLogs({ scope, statusCode: 404 })).logs.map((l) => l.visitorId),
      ).toEqual([b.id]);
      const window = await passes.searchLogs({ scope, from: at(2), to: at(5) });
      expect(window.logs.map((l) => l.timestamp.getTime())).toEqual([
        at(3).getTime(),
        at(2).getTime(),
      ]);
      expect((await passes.searchLogs({ scope: "nul\u0000" })).logs).toEqual([]);
      expect((await passes.searchLogs({ uuid: randomUUID() })).logs).toEqual([]);
    });

    it("searchLogs refuses bad options with a validation error", async () => {
      const { passes } = storage;
      for (const options of [
        { limit: 0 },
        { limit: 501 },
        { statusCode: 99 },
        { statusCode: 2.5 },
        { before: "yesterday" },
        { before: "1-0" },
        { from: new Date("nope") },
        { visitorId: -1 },
        { unknown: 1 },
      ]) {
        await expect(passes.searchLogs(options as never)).rejects.toMatchObject({
          code: "VISITOR_PASS_VALIDATION",
        });
      }
    });
  });
}
