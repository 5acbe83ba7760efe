import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { VisitorPassValidationError } from "../../src/index.js";
import type { NewVisitorLog } from "../../src/store/store.js";
import { STORES } from "../support/databases.js";
import { openStorage, removeSqliteFiles, type Storage } from "./support.js";

afterAll(removeSqliteFiles);

const T0 = Date.parse("2031-01-01T00:00:00.000Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

function log(visitorId: number, timestamp: Date, requestUri = "/reference"): NewVisitorLog {
  return {
    visitorId,
    sessionKey: "sess-1",
    httpMethod: "GET",
    requestUri,
    queryString: "",
    httpUserAgent: null,
    httpReferer: null,
    remoteAddr: null,
    statusCode: 200,
    timestamp,
  };
}

/** The request paths of a pass's logs, newest first. */
const paths = async (storage: Storage, uuid: string) =>
  (await storage.passes.logs(uuid)).map((entry) => entry.requestUri);

for (const database of STORES) {
  describe.skipIf(!database.url)(`truncateLogs on ${database.name}`, () => {
    // Tables of its own for each test: a truncation reaches every pass.
    let storage: Storage;
    beforeEach(async () => {
      storage = await openStorage(database);
    });
    afterEach(async () => {
      await storage.cleanup();
    });

    /** Two passes with logs at minutes 0..n-1 (`/a0`…, `/b0`…). */
    async function twoPasses(n: number) {
      const { passes, store } = storage;
      const a = await passes.create({ email: "a@example.org", scope: "S" });
      const b = await passes.create({ email: "b@example.org", scope: "S" });
      const logs: NewVisitorLog[] = [];
      for (let i = 0; i < n; i++) {
        logs.push(log(a.id, at(i), `/a${i}`), log(b.id, at(i), `/b${i}`));
      }
      await store.insertLogs(logs);
      return { a, b };
    }

    it("before: deletes the logs older than it, keeps the passes, returns the count", async () => {
      const { passes } = storage;
      const { a, b } = await twoPasses(5);
      expect(await passes.truncateLogs({ before: at(3) })).toBe(6);
      expect(await paths(storage, a.uuid)).toEqual(["/a4", "/a3"]);
      expect(await paths(storage, b.uuid)).toEqual(["/b4", "/b3"]);
      expect(await passes.get(a.uuid)).not.toBeNull();
      expect(await passes.truncateLogs({ before: at(3) })).toBe(0);
    });

    it("keep: leaves the newest of each pass (ties by id), deletes the rest", async () => {
      const { passes, store } = storage;
      const { a, b } = await twoPasses(5);
      // Two logs at the same instant: the later written counts as the newer.
      await store.insertLogs([log(a.id, at(4), "/a4-again")]);
      const few = await passes.create({ email: "few@example.org", scope: "S" });
      await store.insertLogs([log(few.id, at(0), "/few")]);
      expect(await passes.truncateLogs({ keep: 2 })).toBe(7);
      expect(await paths(storage, a.uuid)).toEqual(["/a4-again", "/a4"]);
      expect(await paths(storage, b.uuid)).toEqual(["/b4", "/b3"]);
      expect(await paths(storage, few.uuid)).toEqual(["/few"]);
    });

    it("keep 0 deletes every log; a pass without logs is untouched", async () => {
      const { passes } = storage;
      const { a, b } = await twoPasses(3);
      const none = await passes.create({ email: "none@example.org", scope: "S" });
      expect(await passes.truncateLogs({ keep: 0 })).toBe(6);
      expect(await paths(storage, a.uuid)).toEqual([]);
      expect(await paths(storage, b.uuid)).toEqual([]);
      expect(await passes.get(none.uuid)).not.toBeNull();
    });

    it("before and keep: only logs both older than before and beyond the newest keep", async () => {
      const { passes, store } = storage;
      const { a } = await twoPasses(6);
      const old = await passes.create({ email: "old@example.org", scope: "S" });
      await store.insertLogs([0, 1, 2].map((i) => log(old.id, at(i), `/old${i}`)));
      // a: /a0../a5; older than minute 4 are /a0../a3; the newest 2 are /a5, /a4 anyway.
      // old: all older than minute 4, the newest 2 stay.
      const deleted = await passes.truncateLogs({ before: at(4), keep: 2 });
      expect(await paths(storage, a.uuid)).toEqual(["/a5", "/a4"]);
      expect(await paths(storage, old.uuid)).toEqual(["/old2", "/old1"]);
      expect(deleted).toBe(4 + 4 + 1);
    });

    it("goes through batches on a larger table, each a bounded delete, and reports its progress", async () => {
      const { passes, store } = storage;
      const pass = await passes.create({ email: "big@example.org", scope: "S" });
      const rows = Array.from({ length: 600 }, (_, i) => log(pass.id, at(i), `/p${i}`));
      for (let i = 0; i < rows.length; i += 200) await store.insertLogs(rows.slice(i, i + 200));
      const progress: number[] = [];
      expect(
        await passes.truncateLogs({ before: at(550), onProgress: (n) => progress.push(n) }),
      ).toBe(550);
      expect(progress.length).toBeGreaterThanOrEqual(3);
      expect(progress.at(-1)).toBe(550);
      expect(progress).toEqual([...progress].sort((x, y) => x - y));
      expect((await passes.logs(pass.uuid)).length).toBe(50);

      const batches: number[] = [];
      expect(
        await store.truncateLogs(
          { keep: 10 },
          { batchSize: 7, onBatch: (n) => batches.push(n), pause: async () => {} },
        ),
      ).toBe(40);
      expect(batches[0]).toBeLessThanOrEqual(7);
      expect(await paths(storage, pass.uuid)).toEqual(
        Array.from({ length: 10 }, (_, i) => `/p${599 - i}`),
      );
    });

    it("keep reaches every pass, however many there are", async () => {
      const { passes, store } = storage;
      const created = [];
      for (let i = 0; i < 130; i++) {
        created.push(await passes.create({ email: `p${i}@example.org`, scope: "S" }));
      }
      await store.insertLogs(
        created.flatMap((pass) => [log(pass.id, at(0), "/old"), log(pass.id, at(1), "/new")]),
      );
      expect(await passes.truncateLogs({ keep: 1 })).toBe(130);
      expect(await paths(storage, created[0]!.uuid)).toEqual(["/new"]);
      expect(await paths(storage, created[129]!.uuid)).toEqual(["/new"]);
    });

    it("refuses bad options with VisitorPassValidationError, deleting nothing", async () => {
      const { passes } = storage;
      const { a } = await twoPasses(3);
      for (const bad of [
        {},
        { before: "2031-01-01" },
        { before: new Date("nope") },
        { keep: -1 },
        { keep: 1.5 },
        { keep: "3" },
        { keep: 2, olderThan: 3 },
      ]) {
        await expect(passes.truncateLogs(bad as never), JSON.stringify(bad)).rejects.toBeInstanceOf(
          VisitorPassValidationError,
        );
      }
      await expect(passes.truncateLogs(undefined as never)).rejects.toBeInstanceOf(
        VisitorPassValidationError,
      );
      expect(await paths(storage, a.uuid)).toHaveLength(3);
    });
  });
}
