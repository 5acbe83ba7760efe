import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { VisitorPassValidationError } from "../../src/index.js";
import type { NewVisitorLog } from "../../src/store/store.js";
import { DATABASES, STORES } from "../support/databases.js";
import { removeSqliteFiles, useStorage } from "./support.js";

afterAll(removeSqliteFiles);

function log(visitorId: number, timestamp: Date, extra: Partial<NewVisitorLog> = {}) {
  return {
    visitorId,
    sessionKey: "sess-1",
    httpMethod: "GET",
    requestUri: "/reference",
    queryString: "a=1&b=%C3%BC",
    httpUserAgent: "Mozilla/5.0 (X11; Linux x86_64) 🦊",
    httpReferer: "https://example.org/from?x=y",
    remoteAddr: "203.0.113.7",
    statusCode: 200,
    timestamp,
    ...extra,
  } satisfies NewVisitorLog;
}

for (const database of STORES) {
  describe.skipIf(!database.url)(`logs on ${database.name}`, () => {
    const storage = useStorage(database);

    it("round-trips every field, null ones included", async () => {
      const { passes, store, clock } = storage;
      const pass = await passes.create({ email: "log@example.org", scope: "S" });
      const full = log(pass.id, new Date("2031-05-06T07:08:09.123Z"), {
        httpUserAgent: `UA ${"ü".repeat(990)}`,
        httpReferer: `https://example.org/${"r".repeat(1970)}`,
        remoteAddr: "2001:db8:85a3::8a2e:370:7334",
        statusCode: 302,
      });
      const bare = log(pass.id, clock.advance(1), {
        sessionKey: null,
        httpMethod: "POST",
        requestUri: "/",
        queryString: "",
        httpUserAgent: null,
        httpReferer: null,
        remoteAddr: null,
        statusCode: null,
      });
      await store.insertLogs([full]);
      await store.insertLogs([bare]);

      const logs = await passes.logs(pass.uuid);
      expect(logs).toHaveLength(2);
      const [newest, oldest] = logs;
      expect(newest).toEqual({ ...bare, id: expect.any(Number) });
      expect(oldest).toEqual({ ...full, id: expect.any(Number) });
      expect(newest!.timestamp.getTime()).toBe(bare.timestamp.getTime());
      expect(oldest!.timestamp.getTime()).toBe(Date.parse("2031-05-06T07:08:09.123Z"));
      expect(typeof newest!.id).toBe("number");
      expect(newest!.visitorId).toBe(pass.id);
      expect(newest!.id).toBeGreaterThan(oldest!.id);
    });

    it("lists newest first (timestamp desc, then id desc), only the pass's own", async () => {
      const { passes, store } = storage;
      const pass = await passes.create({ email: "order@example.org", scope: "S" });
      const neighbour = await passes.create({ email: "next@example.org", scope: "S" });
      const t = (ms: number) => new Date(Date.parse("2031-01-01T00:00:00.000Z") + ms);
      for (const [ms, uri] of [
        [2, "/b"],
        [1, "/a"],
        [3, "/c1"],
        [3, "/c2"],
        [0, "/first"],
      ] as const) {
        await store.insertLogs([log(pass.id, t(ms), { requestUri: uri })]);
      }
      await store.insertLogs([log(neighbour.id, t(5), { requestUri: "/neighbour" })]);

      const logs = await passes.logs(pass.uuid);
      expect(logs.map((entry) => entry.requestUri)).toEqual(["/c2", "/c1", "/b", "/a", "/first"]);
      expect((await store.logs(pass.id)).map((entry) => entry.requestUri)).toEqual(
        logs.map((entry) => entry.requestUri),
      );
      expect((await passes.logs(neighbour.uuid)).map((entry) => entry.requestUri)).toEqual([
        "/neighbour",
      ]);
    });

    it("logs of an unknown pass are []", async () => {
      const { passes, store } = storage;
      expect(await passes.logs(randomUUID())).toEqual([]);
      expect(await store.logs(987_654_321)).toEqual([]);
    });

    it("refuses a log of a pass that does not exist, and writes the rest of its batch", async () => {
      const { passes, store } = storage;
      const pass = await passes.create({ email: "batch@example.org", scope: "S" });
      const refused = await store.insertLogs([
        log(pass.id, new Date(), { requestUri: "/before" }),
        log(987_654_321, new Date()),
        log(pass.id, new Date(), { requestUri: "/after" }),
      ]);
      expect(refused).toBe(1);
      expect(await store.logs(987_654_321)).toEqual([]);
      expect((await store.logs(pass.id)).map((row) => row.requestUri).sort()).toEqual([
        "/after",
        "/before",
      ]);
    });
    it("writes a batch of many rows whole, each with its own values, refused rows failing alone", async () => {
      const { passes, store } = storage;
      const pass = await passes.create({ email: "many@example.org", scope: "S" });
      const at = new Date(1_700_000_000_000);
      const batch = Array.from({ length: 130 }, (_, i) =>
        log(i === 7 || i === 77 ? 987_654_321 : pass.id, new Date(at.getTime() + i), {
          requestUri: `/page/${i}`,
          statusCode: 200 + (i % 5),
        }),
      );
      expect(await store.insertLogs(batch)).toBe(2);
      const written = await store.logs(pass.id);
      expect(written).toHaveLength(128);
      for (const row of written) {
        const i = Number(row.requestUri.split("/")[2]);
        expect(row.timestamp.getTime()).toBe(at.getTime() + i);
        expect(row.statusCode).toBe(200 + (i % 5));
      }
    });
  });

  describe.skipIf(!database.url)(`purge on ${database.name}`, () => {
    const storage = useStorage(database);
    // Each test starts with no pass that could expire: earlier tests' passes are purged first.
    beforeEach(async () => {
      await storage.store.purge(new Date(8.64e15));
    });

    it("deletes passes that expired before `before`, with their logs, and counts them", async () => {
      const { passes, store, clock } = storage;
      const cutoff = clock.advance(1000);
      const at = (ms: number | null) =>
        passes.create({
          email: "purge@example.org",
          scope: "PURGE",
          expiresAt: ms === null ? null : new Date(cutoff.getTime() + ms),
        });
      const old = await at(-86_400_000);
      const justBefore = await at(-1);
      const exactly = await at(0);
      const after = await at(1);
      const never = await at(null);
      for (const pass of [old, justBefore, exactly, after, never]) {
        await store.insertLogs([log(pass.id, cutoff)]);
        await store.insertLogs([log(pass.id, cutoff)]);
      }

      expect(await passes.purge({ before: cutoff })).toBe(2);
      expect(await passes.get(old.uuid)).toBeNull();
      expect(await passes.get(justBefore.uuid)).toBeNull();
      for (const kept of [exactly, after, never]) {
        expect((await passes.get(kept.uuid))?.id).toBe(kept.id);
        expect(await passes.logs(kept.uuid)).toHaveLength(2);
      }
      expect(await store.logs(old.id)).toEqual([]);
      expect(await store.logs(justBefore.id)).toEqual([]);
      expect(await store.sharingCounts(old.id)).toMatchObject({ visits: 0 });

      expect(await passes.purge({ before: cutoff })).toBe(0);
    });

    it("defaults `before` to now", async () => {
      const { passes, clock } = storage;
      const now = clock.advance(60_000);
      const expired = await passes.create({
        email: "a@example.org",
        scope: "S",
        expiresAt: new Date(now.getTime() - 1),
      });
      const live = await passes.create({
        email: "b@example.org",
        scope: "S",
        expiresAt: new Date(now.getTime() + 1),
      });
      const progress: number[] = [];
      expect(await passes.purge({ onProgress: (n) => progress.push(n) })).toBe(1);
      expect(progress).toEqual([1]);
      expect(await passes.get(expired.uuid)).toBeNull();
      expect(await passes.get(live.uuid)).not.toBeNull();
      clock.advance(2);
      expect(await passes.purge()).toBe(1);
      expect(await passes.get(live.uuid)).toBeNull();
    });

    it("refuses a `before` that is not a date", async () => {
      const { passes } = storage;
      for (const before of [new Date(Number.NaN), "2031-01-01", 0]) {
        await expect(passes.purge({ before } as never)).rejects.toBeInstanceOf(
          VisitorPassValidationError,
        );
      }
    });

    it("works in batches: 10 passes, batches of 3, four rounds", async () => {
      const { passes, store, clock } = storage;
      const now = clock.advance(60_000);
      const expired = [];
      for (let i = 0; i < 10; i++) {
        const pass = await passes.create({
          email: `batch${i}@example.org`,
          scope: "BATCH",
          expiresAt: new Date(now.getTime() - 1000 + i),
        });
        await store.insertLogs([log(pass.id, now)]);
        expired.push(pass);
      }
      const live = await passes.create({ email: "live@example.org", scope: "BATCH" });

      const progress: number[] = [];
      expect(
        await store.purge(now, {
          batchSize: 3,
          budgetMs: Number.POSITIVE_INFINITY,
          onBatch: (n) => progress.push(n),
        }),
      ).toBe(10);
      expect(progress).toEqual([3, 6, 9, 10]);
      for (const pass of expired) expect(await passes.get(pass.uuid)).toBeNull();
      const ids = expired.map((pass) => pass.id);
      expect([...(await store.visitCounts(ids)).values()]).toEqual(ids.map(() => 0));
      expect(await passes.get(live.uuid)).not.toBeNull();
      expect(await passes.list({ scope: "BATCH" })).toHaveLength(1);
    });

    /** A minute later than the last test, `count` passes of `scope` that expired a moment ago. */
    async function expiredPasses(count: number, scope: string): Promise<Date> {
      const now = storage.clock.advance(60_000);
      for (let i = 0; i < count; i++) {
        await storage.passes.create({
          email: `${scope.toLowerCase()}${i}@example.org`,
          scope,
          expiresAt: new Date(now.getTime() - 1),
        });
      }
      return now;
    }

    it("makes batches smaller while they take longer than the budget, and purges all", async () => {
      const { passes, store } = storage;
      const now = await expiredPasses(20, "SLOW");
      const progress: number[] = [];
      // Every batch "too slow": halved each time, down to one pass a batch.
      expect(
        await store.purge(now, { batchSize: 8, budgetMs: -1, onBatch: (n) => progress.push(n) }),
      ).toBe(20);
      expect(progress).toEqual([8, 12, 14, 15, 16, 17, 18, 19, 20]);
      expect(await passes.list({ scope: "SLOW" })).toEqual([]);
    });

    it("rests between batches as long as the batch took, and not after the last", async () => {
      const { store } = storage;
      const now = await expiredPasses(5, "REST");
      const events: string[] = [];
      const rests: number[] = [];
      expect(
        await store.purge(now, {
          batchSize: 2,
          budgetMs: Number.POSITIVE_INFINITY,
          onBatch: (n) => events.push(`batch ${n}`),
          pause: async (ms) => {
            rests.push(ms);
            events.push("rest");
          },
        }),
      ).toBe(5);
      expect(events).toEqual(["batch 2", "rest", "batch 4", "rest", "batch 5"]);
      // At least a millisecond, however quick the batch: the requests waiting get the loop.
      for (const ms of rests) expect(ms).toBeGreaterThanOrEqual(1);
    });

    it("stops after an exact number of full batches", async () => {
      const { passes, store, clock } = storage;
      const now = clock.advance(60_000);
      for (let i = 0; i < 6; i++) {
        await passes.create({
          email: `exact${i}@example.org`,
          scope: "EXACT",
          expiresAt: new Date(now.getTime() - 1),
        });
      }
      const progress: number[] = [];
      expect(
        await store.purge(now, {
          batchSize: 3,
          budgetMs: Number.POSITIVE_INFINITY,
          onBatch: (n) => progress.push(n),
        }),
      ).toBe(6);
      expect(progress).toEqual([3, 6]);
      expect(await passes.list({ scope: "EXACT" })).toEqual([]);
    });
  });
}

const sqlite = DATABASES.find((database) => database.name === "sqlite")!;

describe("purge on SQLite", () => {
  const storage = useStorage(sqlite);

  /**
   * Frames in the write-ahead log, and how many of them are copied back into the database, as
   * the WAL-index in the `-shm` file says (its header's `mxFrame`, its checkpoint information's
   * `nBackfill`: https://sqlite.org/walformat.html), read without checkpointing.
   */
  function walFrames(filename: string): { frames: number; copied: number } {
    const shm = readFileSync(`${filename}-shm`);
    return { frames: shm.readUInt32LE(16), copied: shm.readUInt32LE(96) };
  }

  it("leaves nothing in the write-ahead log to copy back: each batch is checkpointed", async () => {
    const { passes, store, clock } = storage;
    const now = clock.now();
    for (let i = 0; i < 12; i++) {
      const pass = await passes.create({
        email: `wal${i}@example.org`,
        scope: "WAL",
        expiresAt: new Date(now.getTime() - 1),
      });
      await store.insertLogs(Array.from({ length: 20 }, () => log(pass.id, now)));
    }
    const filename = (passes.config.database as { filename: string }).filename;
    const before = walFrames(filename);
    expect(before.frames).toBeGreaterThan(before.copied);
    expect(await store.purge(now, { batchSize: 5, budgetMs: Number.POSITIVE_INFINITY })).toBe(12);
    const after = walFrames(filename);
    expect(after.frames).toBeGreaterThan(0);
    expect(after.copied).toBe(after.frames);
  });
});

describe("purge on SQLite while another process writes", () => {
  const storage = useStorage(sqlite);

  it("completes every batch", async () => {
    const { passes, store, prefix, clock } = storage;
    const now = clock.now();
    const kept = await passes.create({ email: "kept@example.org", scope: "S", expiresAt: null });
    for (let i = 0; i < 60; i++) {
      await passes.create({
        email: `gone${i}@example.org`,
        scope: "S",
        expiresAt: new Date(now.getTime() - 1),
      });
    }
    const filename = (passes.config.database as { filename: string }).filename;
    const writer = spawn(
      process.execPath,
      [
        "-e",
        `const Sqlite = require("better-sqlite3");
         const db = new Sqlite(process.argv[1]);
         db.pragma("busy_timeout = 5000");
         const insert = db.prepare(
           "insert into ${prefix}visitor_logs (visitor_id, http_method, request_uri, query_string, timestamp) values (?, 'GET', '/', '', ?)");
         process.stdout.write("ready\\n");
         const end = Date.now() + 1500;
         while (Date.now() < end) {
           insert.run(${kept.id}, Date.now());
           Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
         }`,
        filename,
      ],
      { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise<number | null>((resolve) => writer.on("exit", resolve));
    await new Promise((resolve) => writer.stdout.once("data", resolve));

    try {
      expect(await store.purge(now, { batchSize: 1 })).toBe(60);
    } finally {
      expect(await exited).toBe(0);
    }
    expect(await passes.list({ limit: 1000 })).toHaveLength(1);
    expect((await passes.logs(kept.uuid)).length).toBeGreaterThan(0);
  });
});
