import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createVisitorPass, type VisitorPass } from "../index.js";
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

  it("a deactivation through another connection cuts a cached pass off on the next lookup", async () => {
    const visitor = await app.create({ email: "ginger@example.org", scope: "REF" });
    const flow = flowOf(app, "test()");
    const session = new Map<string, unknown>([[app.config.sessionKey, visitor.uuid]]);
    const port = {
      id: "s",
      get: (key: string) => session.get(key),
      set: (key: string, value: string) => void session.set(key, value),
      delete: (key: string) => void session.delete(key),
      setCookieLifetime: () => {},
      regenerate: async () => {},
    };
    expect((await flow.restore(port))?.uuid).toBe(visitor.uuid);
    expect((await flow.restore(port))?.uuid).toBe(visitor.uuid);

    await operator.deactivate(visitor.uuid);

    expect(await flow.restore(port)).toBeNull();
    expect(session.has(app.config.sessionKey)).toBe(false);
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
