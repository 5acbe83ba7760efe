import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cacheListenerOf } from "../../src/core/visitor-pass.js";
import { createVisitorPass, type VisitorPass, VisitorPassConfigError } from "../../src/index.js";
import { DATABASES } from "../support/databases.js";

const UNKNOWN = "00000000-0000-4000-8000-000000000000";
const postgres = DATABASES.find((database) => database.name === "postgres")!;
const mysql = DATABASES.find((database) => database.name === "mysql")!;

/**
 * `passCache: "listen"` on PostgreSQL: a process caches passes, and drops them when the trigger's
 * notice of a change arrives, from any process or tool. Two services on one database stand for
 * two processes; a raw connection with triggers switched off makes changes nobody announces,
 * which shows what is cached.
 */
describe.skipIf(!postgres.url)('passCache: "listen" on PostgreSQL', () => {
  let tablePrefix: string;
  let app: VisitorPass;
  let operator: VisitorPass;
  let raw: pg.Client;

  beforeEach(async () => {
    tablePrefix = `t${randomBytes(4).toString("hex")}_`;
    app = createVisitorPass({ database: postgres.url!, tablePrefix, passCache: "listen", env: {} });
    operator = createVisitorPass({ database: postgres.url!, tablePrefix, env: {} });
    await app.migrate();
    raw = new pg.Client({ connectionString: postgres.url! });
    await raw.connect();
  });

  afterEach(async () => {
    await app.close();
    await operator.close();
    for (const table of ["visitor_logs", "visitors", "migrations", "migrations_lock"]) {
      await raw.query(`drop table if exists "${tablePrefix}${table}"`);
    }
    await raw.query(`drop function if exists "${tablePrefix}visitors_notify"()`);
    await raw.end();
  });

  /** Renames the pass without firing triggers: no notice, so only an uncached read sees it. */
  async function renameUnannounced(uuid: string, firstName: string): Promise<void> {
    await raw.query("begin");
    await raw.query("set local session_replication_role = replica");
    await raw.query(`update "${tablePrefix}visitors" set first_name = $1 where uuid = $2`, [
      firstName,
      uuid,
    ]);
    await raw.query("commit");
  }

  async function listening(): Promise<void> {
    await app.get(UNKNOWN); // the first lookup starts the listening connection
    await vi.waitFor(() => expect(cacheListenerOf(app)?.listening).toBe(true), { timeout: 5000 });
  }

  /** The app sees the pass inactive within a second: the notice has arrived. */
  async function inactiveSoon(uuid: string): Promise<void> {
    await vi.waitFor(async () => expect((await app.get(uuid))?.isActive).toBe(false), {
      timeout: 1000,
      interval: 5,
    });
  }

  it("serves a pass from memory once read", async () => {
    const visitor = await operator.create({ email: "ginger@example.org", scope: "REF" });
    await listening();
    expect((await app.get(visitor.uuid))?.firstName).toBe("");
    await renameUnannounced(visitor.uuid, "Unannounced");
    expect((await app.get(visitor.uuid))?.firstName).toBe("");
    expect((await operator.get(visitor.uuid))?.firstName).toBe("Unannounced");
  });

  it("a deactivation by another process reaches the cache by notice: refused within moments", async () => {
    const visitor = await operator.create({ email: "ginger@example.org", scope: "REF" });
    await listening();
    expect((await app.get(visitor.uuid))?.isActive).toBe(true);
    await operator.deactivate(visitor.uuid);
    await inactiveSoon(visitor.uuid);
  });

  it("a change by any tool is announced too (the trigger is in the database)", async () => {
    const visitor = await operator.create({ email: "ginger@example.org", scope: "REF" });
    await listening();
    expect((await app.get(visitor.uuid))?.isActive).toBe(true);
    await raw.query(`update "${tablePrefix}visitors" set is_active = false where uuid = $1`, [
      visitor.uuid,
    ]);
    await inactiveSoon(visitor.uuid);
  });

  it("caches nothing while the listening connection is lost, and listens again", async () => {
    const visitor = await operator.create({ email: "ginger@example.org", scope: "REF" });
    await listening();
    expect((await app.get(visitor.uuid))?.firstName).toBe("");
    await raw.query("select pg_terminate_backend($1)", [cacheListenerOf(app)!.pid]);
    await vi.waitFor(() => expect(cacheListenerOf(app)?.listening).toBe(false), { timeout: 5000 });
    // Unannounced, and the cache cannot have heard of it: still seen at once.
    await renameUnannounced(visitor.uuid, "While away");
    expect((await app.get(visitor.uuid))?.firstName).toBe("While away");
    await vi.waitFor(
      async () => {
        await app.get(visitor.uuid);
        expect(cacheListenerOf(app)?.listening).toBe(true);
      },
      { timeout: 5000, interval: 100 },
    );
    // Listening again: cached once more, and kept in step by notices.
    await renameUnannounced(visitor.uuid, "Unannounced");
    expect((await app.get(visitor.uuid))?.firstName).toBe("While away");
    await operator.deactivate(visitor.uuid);
    await inactiveSoon(visitor.uuid);
  });
});

describe('passCache: "listen" elsewhere', () => {
  it.skipIf(!mysql.url)("is refused on MySQL, which has no notifications", () => {
    expect(() => createVisitorPass({ database: mysql.url!, passCache: "listen", env: {} })).toThrow(
      VisitorPassConfigError,
    );
  });

  it("is the exact cache on SQLite", async () => {
    const passes = createVisitorPass({ database: "sqlite::memory:", passCache: "listen", env: {} });
    await passes.migrate();
    const visitor = await passes.create({ email: "ginger@example.org", scope: "REF" });
    await passes.deactivate(visitor.uuid);
    expect((await passes.get(visitor.uuid))?.isActive).toBe(false);
    await passes.close();
  });
});
