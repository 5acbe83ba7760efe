import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createVisitorPass, type VisitorPass } from "../index.js";
import { CHECK_WINDOW_MS } from "../store/kysely/sqlite-fast-path.js";
import { PassCache } from "./pass-cache.js";
import { Visitor } from "./visitor.js";
import { flowOf } from "./visitor-pass.js";

describe("the pass cache on SQLite", () => {
  let dir: string;
  let app: VisitorPass;
  let operator: VisitorPass;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "visitor-pass-cache-"));
    const database = `sqlite:${path.join(dir, "passes.sqlite3")}`;
    app = createVisitorPass({ database, env: {} });
    operator = createVisitorPass({ database, env: {} });
    await app.migrate();
  });
  afterEach(async () => {
    await app.close();
    await operator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A session of `app` holding the pass `uuid`, and what the flow restores from it. */
  function sessionHolding(uuid: string) {
    const flow = flowOf(app, "test()");
    const session = new Map<string, unknown>([[app.config.sessionKey, uuid]]);
    const port = {
      id: "s",
      get: (key: string) => session.get(key),
      set: (key: string, value: string) => void session.set(key, value),
      delete: (key: string) => void session.delete(key),
      setCookieLifetime: () => {},
      regenerate: async () => {},
    };
    return { session, restore: async () => (await flow.stash.restore(port))?.uuid ?? null };
  }

  it("a deactivation through another connection cuts a cached pass off on the next lookup", async () => {
    const visitor = await app.create({ email: "ginger@example.org", scope: "REF" });
    const { session, restore } = sessionHolding(visitor.uuid);
    expect(await restore()).toBe(visitor.uuid);
    expect(await restore()).toBe(visitor.uuid);

    // Right after a lookup, within the time one data-version check answers for: deactivate()
    // resolves only once that time has passed.
    await operator.deactivate(visitor.uuid);

    expect(await restore()).toBeNull();
    expect(session.has(app.config.sessionKey)).toBe(false);
  });

  it("a purge through another connection cuts off a session holding a purged pass on the next lookup", async () => {
    const visitor = await app.create({
      email: "ginger@example.org",
      scope: "REF",
      expiresAt: new Date(Date.now() + 60_000),
    });
    const { restore } = sessionHolding(visitor.uuid);
    // The clock both connections time their checks by, held still: the lookup's check answers
    // until the clock has moved on by the window, which purge() must wait for.
    let now = performance.now();
    const clock = vi.spyOn(performance, "now").mockImplementation(() => now);
    try {
      expect(await restore()).toBe(visitor.uuid);
      const moved = new Promise<void>((resolve) =>
        setTimeout(() => {
          now += CHECK_WINDOW_MS;
          resolve();
        }, 50),
      );
      // An expired link still serves the session that holds it, until the pass is purged.
      const purged = await operator.purge({ before: new Date(Date.now() + 120_000) });
      expect(purged).toBe(1);
      expect(await restore()).toBeNull();
      await moved;
    } finally {
      clock.mockRestore();
    }
  });

  it(`sees a hand-written UPDATE by another connection within ${CHECK_WINDOW_MS} ms`, async () => {
    const visitor = await app.create({ email: "ginger@example.org", scope: "REF" });
    const { restore } = sessionHolding(visitor.uuid);
    expect(await restore()).toBe(visitor.uuid);
    const db = new Database(path.join(dir, "passes.sqlite3"));
    try {
      db.prepare("update visitor_pass_visitors set is_active = 0 where uuid = ?").run(visitor.uuid);
    } finally {
      db.close();
    }
    await new Promise((resolve) => setTimeout(resolve, CHECK_WINDOW_MS + 1));
    expect(await restore()).toBeNull();
  });

  it("sees this process's own writes at once", async () => {
    const visitor = await app.create({ email: "ginger@example.org", scope: "REF" });
    expect((await app.get(visitor.uuid))?.isActive).toBe(true);
    await app.deactivate(visitor.uuid);
    expect((await app.get(visitor.uuid))?.isActive).toBe(false);
    await app.reactivate(visitor.uuid);
    expect((await app.get(visitor.uuid))?.isActive).toBe(true);
  });

  it("forgets purged passes", async () => {
    const visitor = await app.create({
      email: "ginger@example.org",
      scope: "REF",
      expiresAt: new Date(Date.now() - 1000),
    });
    expect(await app.get(visitor.uuid)).not.toBeNull();
    expect(await app.purge()).toBe(1);
    expect(await app.get(visitor.uuid)).toBeNull();
  });
});

describe("PassCache", () => {
  const visitor = (uuid: string) =>
    new Visitor({
      id: 1,
      uuid,
      firstName: "",
      lastName: "",
      email: "v@example.org",
      scope: "S",
      context: null,
      createdAt: new Date(0),
      lastUpdatedAt: new Date(0),
      expiresAt: null,
      isActive: true,
      sessionExpiry: null,
      maxUses: null,
      uses: 0,
    });

  it("does not keep a read that a change elsewhere overtook while it was under way", () => {
    let changed = false;
    const cache = new PassCache(() => {
      const answer = changed;
      changed = false;
      return answer;
    });
    const mark = cache.mark();
    changed = true; // a notice arrives while the read is in flight...
    expect(cache.get("other")).toBeUndefined(); // ...and another lookup takes it first
    cache.set("a", visitor("a"), mark); // the read, perhaps from before the change
    expect(cache.get("a")).toBeUndefined();
    cache.set("a", visitor("a"), cache.mark());
    expect(cache.get("a")?.uuid).toBe("a");
  });

  it("does not keep a read that this process's own write overtook", () => {
    const cache = new PassCache(() => false);
    const mark = cache.mark();
    cache.forget("a"); // deactivate() while a lookup of the same pass is in flight
    cache.set("a", visitor("a"), mark);
    expect(cache.get("a")).toBeUndefined();
  });

  it("lets entries expire after maxAge", () => {
    let now = 1_000;
    const cache = new PassCache(() => false, { maxAge: 5_000, clock: () => now });
    cache.set("a", visitor("a"), cache.mark());
    now += 5_000;
    expect(cache.get("a")?.uuid).toBe("a");
    now += 1;
    expect(cache.get("a")).toBeUndefined();
  });

  it("keeps at most maxEntries, dropping the oldest", () => {
    const cache = new PassCache(() => false, { maxEntries: 2 });
    for (const key of ["a", "b", "c"]) cache.set(key, visitor(key), cache.mark());
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("c")?.uuid).toBe("c");
  });
});
