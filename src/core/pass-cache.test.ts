import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createVisitorPass, type VisitorPass } from "../index.js";
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
