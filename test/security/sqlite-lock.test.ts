import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VisitorPass } from "../../src/index.js";
import { Client } from "../behaviour/client.js";
import { HARNESSES, type RunningApp } from "../behaviour/harness.js";
import { newPass } from "../behaviour/support.js";
import { openPasses } from "../support/databases.js";
import { holdWriteLock } from "../support/sqlite-lock.js";

/** The deadline a store call waits for the lock, short here so the test stays quick. */
const STORE_TIMEOUT = 300;

describe.each(HARNESSES)("another process holding SQLite's write lock: $name", (harness) => {
  let dir: string;
  let file: string;
  let passes: VisitorPass;
  let app: RunningApp;
  let cleanup: () => Promise<void>;
  const reports: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "visitor-pass-lock-"));
    file = join(dir, "passes.sqlite3");
    const logger = {
      warn: (line: string) => reports.push(line),
      error: (line: string) => reports.push(line),
    };
    ({ passes, cleanup } = await openPasses(
      { name: "sqlite", url: `sqlite:${file}`, sql: true, skipped: null },
      { storeTimeout: STORE_TIMEOUT, logger },
    ));
    app = await harness.start(passes);
  });

  afterAll(async () => {
    await app?.close();
    await cleanup?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps every page answering, refuses landings with 503 after the deadline, holds the visit logs and recovers", async () => {
    const ginger = await newPass(passes);
    const fred = await newPass(passes);
    const visitor = new Client(app.url, { redirect: "manual" });
    expect((await visitor.get(passes.tokenise("/reference", ginger))).status).toBe(302);
    expect((await visitor.get("/reference")).status).toBe(200);

    const lock = await holdWriteLock(file);
    const newcomer = new Client(app.url, { redirect: "manual" });
    let landing: { status: number; body: { error?: string }; ms: number };
    let visit: number;
    const publicMs: number[] = [];
    const loop = monitorEventLoopDelay({ resolution: 5 });
    try {
      loop.enable();
      const started = performance.now();
      // A landing spends a use: a write, which must wait for the lock.
      const landed = newcomer.get(passes.tokenise("/reference", fred)).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as { error?: string },
        ms: performance.now() - started,
      }));
      // Meanwhile a page that needs no pass, and a visitor already in (a cached pass, whose
      // visit log must wait for the lock too).
      for (let i = 0; i < 8; i++) {
        const sent = performance.now();
        const response = await fetch(`${app.url}/public`);
        await response.arrayBuffer();
        publicMs.push(performance.now() - sent);
        expect(response.status).toBe(200);
        await sleep(40);
      }
      visit = (await visitor.get("/reference")).status;
      landing = await landed;
      // The held visit log tried (and failed) its write under the lock too.
      await sleep(STORE_TIMEOUT + 200);
      loop.disable();
    } finally {
      loop.disable();
      await lock.release();
    }

    expect(Math.max(...publicMs)).toBeLessThan(200);
    expect(loop.max / 1e6).toBeLessThan(100);
    expect(visit).toBe(200);
    expect(landing.status).toBe(503);
    expect(landing.body.error).toBe("VisitorPassUnavailable");
    expect(landing.ms).toBeGreaterThanOrEqual(STORE_TIMEOUT - 10);
    expect(landing.ms).toBeLessThan(STORE_TIMEOUT + 1_500);
    expect(reports).toEqual([expect.stringContaining("cannot write visit logs")]);

    // The lock released: the landing works, and the visit made under the lock was written.
    expect((await newcomer.get(passes.tokenise("/reference", fred))).status).toBe(302);
    expect((await passes.get(fred.uuid))?.uses).toBe(1);
    const logs = await passes.logs(ginger.uuid);
    expect(logs.map((log) => log.statusCode)).toEqual([200, 200]);
    expect(reports[1]).toContain("visit logs are written again");
  }, 30_000);
});
