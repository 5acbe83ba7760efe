import { describe, expect, it, vi } from "vitest";
import { resolveConfig as resolveWith, type VisitorPassOptions } from "./config.js";
import type { NewVisitorLog, VisitorStore } from "./ports.js";

/** The options resolved with a stand-in for the built-in confirmation page. */
const resolveConfig = (options: VisitorPassOptions) => resolveWith(options, () => "");

import type { VisitRequest } from "./ports.js";
import { VisitLogWriter } from "./visit-log.js";
import { Visitor } from "./visitor.js";

const visitor = (id: number) =>
  new Visitor({
    id,
    uuid: "00000000-0000-4000-8000-000000000000",
    firstName: "",
    lastName: "",
    email: "v@example.org",
    scope: "S",
    context: null,
    createdAt: new Date(),
    lastUpdatedAt: new Date(),
    expiresAt: null,
    isActive: true,
    sessionExpiry: 0,
    maxUses: null,
    uses: 0,
  });

const request: VisitRequest = {
  method: "GET",
  url: "/reference?x=1&vuid=00000000-0000-4000-8000-000000000000",
  userAgent: "Mozilla/5.0",
  referer: null,
  ip: "203.0.113.9",
};

/** A store that keeps the rows it is given, and can be told to fail. */
function fakeStore() {
  const rows: NewVisitorLog[] = [];
  const batches: number[] = [];
  const state = { down: false, refuseVisitor: -1 };
  const store = {
    async insertLogs(logs: readonly NewVisitorLog[]) {
      if (state.down) throw new Error("connection refused");
      const kept = logs.filter((log) => log.visitorId !== state.refuseVisitor);
      batches.push(kept.length);
      rows.push(...kept);
      return logs.length - kept.length;
    },
  } as unknown as VisitorStore;
  return { store, rows, batches, state };
}

const config = resolveConfig({ env: {}, database: "sqlite::memory:" });

describe("VisitLogWriter", () => {
  it("writes every recorded visit exactly once, in few inserts", async () => {
    const { store, rows, batches } = fakeStore();
    const writer = new VisitLogWriter(store, config);
    for (let i = 0; i < 1000; i++) writer.record(visitor(1), request, `s${i}`, 200);
    await writer.flush();
    expect(rows).toHaveLength(1000);
    expect(new Set(rows.map((row) => row.sessionKey)).size).toBe(1000);
    expect(batches.length).toBeLessThanOrEqual(10);
    expect(Math.max(...batches)).toBeLessThanOrEqual(250);
    expect(rows[0]?.queryString).toBe("x=1");
  });

  it("a flush never returns while an insert it should wait for is still in flight", async () => {
    const rows: NewVisitorLog[] = [];
    const slow = {
      async insertLogs(logs: readonly NewVisitorLog[]) {
        await new Promise((resolve) => setTimeout(resolve, 15));
        rows.push(...logs);
        return 0;
      },
    } as unknown as VisitorStore;
    const writer = new VisitLogWriter(slow, config);
    for (let i = 0; i < 600; i++) writer.record(visitor(1), request, `a${i}`, 200);
    const first = writer.flush();
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 100; i++) writer.record(visitor(1), request, `b${i}`, 200);
    const second = writer.flush();
    await second;
    expect(rows).toHaveLength(700);
    await first;
    expect(rows).toHaveLength(700);
  });

  it("every flush, however many overlap, sees all rows recorded before it written", async () => {
    const rows: NewVisitorLog[] = [];
    let delay = 0;
    const jittery = {
      async insertLogs(logs: readonly NewVisitorLog[]) {
        delay = (delay + 7) % 13;
        await new Promise((resolve) => setTimeout(resolve, delay));
        rows.push(...logs);
        return 0;
      },
    } as unknown as VisitorStore;
    const writer = new VisitLogWriter(jittery, config);
    let recorded = 0;
    const checks: Promise<void>[] = [];
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 97; i++) writer.record(visitor(1), request, `r${recorded++}`, 200);
      const expected = recorded;
      checks.push(writer.flush().then(() => expect(rows.length).toBeGreaterThanOrEqual(expected)));
      await new Promise((resolve) => setTimeout(resolve, round % 4));
    }
    await Promise.all(checks);
    await writer.flush();
    expect(rows).toHaveLength(recorded);
  });

  it("writes on its own shortly after a visit, without a flush", async () => {
    const { store, rows } = fakeStore();
    const writer = new VisitLogWriter(store, config);
    writer.record(visitor(1), request, "s", 200);
    expect(rows).toHaveLength(0);
    await vi.waitFor(() => expect(rows).toHaveLength(1), { timeout: 2000 });
  });

  it("holds rows while the database is away and writes them once when it returns", async () => {
    const { store, rows, state } = fakeStore();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const writer = new VisitLogWriter(store, config);
    state.down = true;
    for (let i = 0; i < 300; i++) writer.record(visitor(1), request, `s${i}`, 200);
    await writer.flush();
    expect(rows).toHaveLength(0);
    expect(writer.pending).toBe(300);
    state.down = false;
    await writer.flush();
    expect(rows).toHaveLength(300);
    expect(new Set(rows.map((row) => row.sessionKey)).size).toBe(300);
    expect(writer.pending).toBe(0);
    errors.mockRestore();
  });

  it("while the database is away, more visits do not each try a write: the retry waits", async () => {
    const { store, state } = fakeStore();
    const attempts = vi.spyOn(store, "insertLogs");
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const writer = new VisitLogWriter(store, config);
    state.down = true;
    for (let i = 0; i < 300; i++) writer.record(visitor(1), request, `s${i}`, 200);
    await writer.flush();
    const before = attempts.mock.calls.length;
    // A full batch is queued: before the fix, each of these started a write at once.
    for (let i = 0; i < 500; i++) writer.record(visitor(1), request, `t${i}`, 200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(attempts.mock.calls.length - before).toBe(0);
    expect(writer.pending).toBe(800);
    state.down = false;
    await writer.flush();
    expect(writer.pending).toBe(0);
    errors.mockRestore();
  });

  it("beyond the rows it may hold, drops the oldest and says how many once writes recover", async () => {
    const { store, rows, state } = fakeStore();
    const { logger, lines } = recordingLogger();
    const writer = new VisitLogWriter(store, { ...config, logger });
    state.down = true;
    writer.record(visitor(1), request, "first", 200);
    await writer.flush();
    expect(lines).toEqual([
      ["error", expect.stringContaining("cannot write visit logs (connection refused)")],
    ]);
    lines.length = 0;
    // 50,000 are held: these push out the first and the 9 after it, without a line each.
    for (let i = 0; i < 50_009; i++) writer.record(visitor(1), request, `s${i}`, 200);
    expect(writer.pending).toBe(50_000);
    await writer.flush();
    expect(lines).toEqual([]);
    state.down = false;
    await writer.flush();
    expect(lines).toEqual([
      [
        "warn",
        expect.stringContaining(
          "50010 visits were served unlogged (50000 held to be written, 10 dropped)",
        ),
      ],
    ]);
    expect(rows).toHaveLength(50_000);
    expect(rows[0]?.sessionKey).toBe("s9");
  });

  it("reports the rows the store refused, and does not try them again", async () => {
    const { store, rows, state } = fakeStore();
    const { logger, lines } = recordingLogger();
    const writer = new VisitLogWriter(store, { ...config, logger });
    state.refuseVisitor = 2;
    writer.record(visitor(2), request, "refused", 200);
    for (let i = 0; i < 5; i++) writer.record(visitor(1), request, `s${i}`, 200);
    await writer.flush();
    expect(rows.map((row) => row.sessionKey)).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    expect(writer.pending).toBe(0);
    expect(lines).toEqual([
      ["error", expect.stringContaining("dropped 1 visit logs whose pass no longer exists")],
    ]);
  });

  it("gives each visit a key of its own, and the same key each time its batch is tried", async () => {
    const tried: NewVisitorLog[][] = [];
    let failures = 1;
    const flaky = {
      async insertLogs(logs: readonly NewVisitorLog[]) {
        tried.push([...logs]);
        if (failures-- > 0) throw new Error("connection terminated after the commit");
        return 0;
      },
    } as unknown as VisitorStore;
    const writer = new VisitLogWriter(flaky, config);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    for (let i = 0; i < 3; i++) writer.record(visitor(1), request, `s${i}`, 200);
    await writer.flush();
    await writer.flush();
    errors.mockRestore();
    expect(writer.pending).toBe(0);
    expect(tried).toHaveLength(2);
    const keys = tried.map((batch) => batch.map((log) => log.idempotencyKey));
    expect(new Set(keys[0]).size).toBe(3);
    for (const key of keys[0]!) {
      expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(keys[1]).toEqual(keys[0]);
  });
});

/** A logger that keeps what it is told, as `[level, line]`. */
function recordingLogger() {
  const lines: [string, string][] = [];
  return {
    lines,
    logger: {
      warn: (line: string) => lines.push(["warn", line]),
      error: (line: string) => lines.push(["error", line]),
    },
  };
}

describe("close()", () => {
  it("writes the visits still queued before it lets go of the database", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const { createVisitorPass } = await import("../index.js");
    const { flowOf } = await import("./visitor-pass.js");
    const dir = mkdtempSync(path.join(tmpdir(), "visitor-pass-close-"));
    const database = `sqlite:${path.join(dir, "passes.sqlite3")}`;
    try {
      const passes = createVisitorPass({ database, env: {} });
      await passes.migrate();
      const ginger = await passes.create({ email: "ginger@example.org", scope: "S" });
      const flow = flowOf(passes, "test()");
      for (let i = 0; i < 50; i++) flow.recordVisit(ginger, request, null, 200);
      await passes.close();

      const reopened = createVisitorPass({ database, env: {} });
      expect(await reopened.logs(ginger.uuid)).toHaveLength(50);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
