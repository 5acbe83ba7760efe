import type { AddressInfo } from "node:net";
import type Sqlite from "better-sqlite3";
import express from "express";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type VisitorPass,
  type VisitorPassOptions,
  VisitorPassStorageFull,
  VisitorPassUnavailable,
} from "../../src/index.js";
import { Client } from "../behaviour/client.js";
import { HARNESSES, type RunningApp } from "../behaviour/harness.js";
import { newPass } from "../behaviour/support.js";
import { openPasses } from "../support/databases.js";

/**
 * Every better-sqlite3 connection opened, newest last: the test reaches the package's own
 * connection to cap its size (`PRAGMA max_page_count`), after which SQLite answers each write
 * that needs a new page with SQLITE_FULL, as on a full disk.
 */
const opened = vi.hoisted(() => [] as Sqlite.Database[]);

vi.mock("better-sqlite3", async (importOriginal) => {
  const real = (await importOriginal<{ default: typeof Sqlite }>()).default;
  class Tracked extends real {
    constructor(...args: ConstructorParameters<typeof Sqlite>) {
      super(...args);
      opened.push(this as unknown as Sqlite.Database);
    }
  }
  return { default: Tracked };
});

/** A migrated pass service on SQLite and its connection, reporting to `reports`. */
async function openFull(options: VisitorPassOptions = {}) {
  const reports: [string, string][] = [];
  const logger = {
    warn: (line: string) => reports.push(["warn", line]),
    error: (line: string) => reports.push(["error", line]),
  };
  const before = opened.length;
  const { passes, cleanup } = await openPasses(
    { name: "sqlite", url: "sqlite::memory:", sql: true, skipped: null },
    { ...options, logger },
  );
  expect(opened.length).toBe(before + 1);
  const db = opened[opened.length - 1]!;
  return {
    passes,
    cleanup,
    reports,
    /** No page may be added to the database from now on. */
    fill: () => db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true })}`),
    /** Room again. */
    free: () => db.pragma("max_page_count = 1000000"),
  };
}

/** Guarded visits enough to need new pages of logs. */
const VISITS = 60;

/** Creates passes until one fails (the pages already there take a few); that failure. */
async function exhaust(passes: VisitorPass): Promise<unknown> {
  for (let i = 0; i < 200; i++) {
    try {
      await passes.create({ email: `v${i}@example.org`, scope: "S" });
    } catch (error) {
      return error;
    }
  }
  return null;
}

async function visits(client: Client, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await client.get("/reference");
    await response.arrayBuffer();
    statuses.push(response.status);
  }
  return statuses;
}

describe("a full disk on SQLite: create()", () => {
  let store: Awaited<ReturnType<typeof openFull>>;
  let base: string;
  let close: () => void;

  beforeAll(async () => {
    store = await openFull();
    const app = express();
    app.use(express.json());
    app.post("/invite", async (req, res, next) => {
      try {
        const visitor = await store.passes.create({ email: req.body.email, scope: "S" });
        res.status(201).json({ uuid: visitor.uuid });
      } catch (error) {
        next(error);
      }
    });
    app.use(
      (
        error: Error & { status?: number },
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        res.status(error.status ?? 500).json({ error: error.name });
      },
    );
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });

  afterAll(async () => {
    close?.();
    await store?.cleanup();
  });

  it("throws VisitorPassStorageFull (503, with the database's error as cause), and an app answers 503", async () => {
    store.fill();
    const failure = await exhaust(store.passes);
    expect(failure).toBeInstanceOf(VisitorPassStorageFull);
    expect(failure).toBeInstanceOf(VisitorPassUnavailable);
    expect(failure).toMatchObject({
      code: "VISITOR_PASS_STORAGE_FULL",
      status: 503,
      cause: expect.objectContaining({ code: "SQLITE_FULL" }),
    });

    const invite = await fetch(`${base}/invite`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "new@example.org" }),
    });
    expect(invite.status).toBe(503);
    expect(await invite.json()).toEqual({ error: "VisitorPassStorageFull" });

    store.free();
    const retried = await fetch(`${base}/invite`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "new@example.org" }),
    });
    expect(retried.status).toBe(201);
  });
});

describe.each(HARNESSES)("a full disk on SQLite: $name", (harness) => {
  describe('onLogFailure: "serve" (the default)', () => {
    let store: Awaited<ReturnType<typeof openFull>>;
    let app: RunningApp;

    beforeAll(async () => {
      store = await openFull();
      app = await harness.start(store.passes);
    });
    afterAll(async () => {
      await app?.close();
      await store?.cleanup();
    });

    it("serves guarded visits, reports once that they go unlogged, then how many, and writes them once there is room", async () => {
      const { passes, reports } = store;
      const visitor = await newPass(passes);
      const client = new Client(app.url, { redirect: "manual" });
      expect((await client.get(passes.tokenise("/reference", visitor))).status).toBe(302);

      store.fill();
      expect(await visits(client, VISITS)).toEqual(Array(VISITS).fill(200));
      await passes.flush();
      expect(reports).toEqual([
        [
          "error",
          expect.stringMatching(/cannot write visit logs \(SQLITE_FULL: .*served unlogged/),
        ],
      ]);
      // Those written before the pages ran out.
      const written = (await passes.logs(visitor.uuid)).length;
      expect(written).toBeLessThan(VISITS);
      // More visits, more failed writes: no more lines.
      expect(await visits(client, 5)).toEqual(Array(5).fill(200));
      await passes.flush();
      expect(reports).toHaveLength(1);
      // Self-service needs a new pass: refused as unavailable, named for what happened.
      expect(await exhaust(passes)).toBeInstanceOf(VisitorPassStorageFull);
      const apply = await new Client(app.url, { redirect: "manual" }).json("/apply");
      expect(apply.status).toBe(503);
      expect(apply.body.error).toBe("VisitorPassStorageFull");

      store.free();
      await passes.flush();
      const unlogged = VISITS + 5 - written;
      expect(reports[1]).toEqual([
        "warn",
        expect.stringContaining(
          `${unlogged} visits were served unlogged (${unlogged} held to be written, 0 dropped)`,
        ),
      ]);
      expect(reports).toHaveLength(2);
      expect(await passes.logs(visitor.uuid)).toHaveLength(VISITS + 5);
    });
  });

  describe('onLogFailure: "refuse"', () => {
    let store: Awaited<ReturnType<typeof openFull>>;
    let app: RunningApp;

    beforeAll(async () => {
      store = await openFull({ onLogFailure: "refuse" });
      app = await harness.start(store.passes);
    });
    afterAll(async () => {
      await app?.close();
      await store?.cleanup();
    });

    it("answers 503 on guarded routes that log while logs cannot be written, and serves the rest", async () => {
      const { passes, reports } = store;
      const visitor = await newPass(passes);
      const client = new Client(app.url, { redirect: "manual" });
      expect((await client.get(passes.tokenise("/reference", visitor))).status).toBe(302);

      store.fill();
      // Served until a write of their logs has failed, then refused.
      let served = 0;
      let refused: { status: number; body: { error?: string } } | null = null;
      for (let i = 0; i < 400 && refused === null; i++) {
        const answer = await client.json("/reference");
        if (answer.status === 200) served += 1;
        else refused = answer;
        if (i % 20 === 19) await passes.flush();
      }
      expect(served).toBeGreaterThan(0);
      expect(refused).toEqual({
        status: 503,
        body: expect.objectContaining({ error: "VisitorPassUnavailable" }),
      });
      expect(reports).toEqual([
        ["error", expect.stringContaining("guarded visits that log are refused (503)")],
      ]);
      expect((await client.json("/reference")).status).toBe(503);
      expect((await client.get("/nolog")).status).toBe(200);
      expect((await client.get("/public")).status).toBe(200);

      store.free();
      await passes.flush();
      expect((await client.get("/reference")).status).toBe(200);
      expect(reports[1]).toEqual(["warn", expect.stringContaining("visit logs are written again")]);
      expect(reports).toHaveLength(2);
      // Every visit served was logged; none was served unlogged for good.
      expect(await passes.logs(visitor.uuid)).toHaveLength(served + 1);
    });
  });
});
