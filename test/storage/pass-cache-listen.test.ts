import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createVisitorPass, type VisitorPass, VisitorPassConfigError } from "../../src/index.js";
import { listenerName } from "../../src/store/kysely/pg-listen.js";
import { DATABASES } from "../support/databases.js";

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

  /**
   * Waits until the app serves `uuid` from its cache (the listening connection is up): an
   * unannounced rename then goes unseen. Returns the name the app serves.
   */
  async function untilCached(uuid: string): Promise<string> {
    let served = "";
    let attempt = 0;
    await vi.waitFor(
      async () => {
        served = (await app.get(uuid))!.firstName; // read, and cached once listening
        await renameUnannounced(uuid, `unannounced ${++attempt}`);
        expect((await app.get(uuid))!.firstName).toBe(served);
      },
      { timeout: 5000, interval: 50 },
    );
    return served;
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
    const served = await untilCached(visitor.uuid);
    expect((await operator.get(visitor.uuid))?.firstName).not.toBe(served);
  });

  it("a deactivation by another process reaches the cache by notice: refused within moments", async () => {
    const visitor = await operator.create({ email: "ginger@example.org", scope: "REF" });
    await untilCached(visitor.uuid);
    expect((await app.get(visitor.uuid))?.isActive).toBe(true);
    await operator.deactivate(visitor.uuid);
    await inactiveSoon(visitor.uuid);
  });

  it("a change by any tool is announced too (the trigger is in the database)", async () => {
    const visitor = await operator.create({ email: "ginger@example.org", scope: "REF" });
    await untilCached(visitor.uuid);
    expect((await app.get(visitor.uuid))?.isActive).toBe(true);
    await raw.query(`update "${tablePrefix}visitors" set is_active = false where uuid = $1`, [
      visitor.uuid,
    ]);
    await inactiveSoon(visitor.uuid);
  });

  it("caches nothing while the listening connection is lost, and listens again", async () => {
    const visitor = await operator.create({ email: "ginger@example.org", scope: "REF" });
    await untilCached(visitor.uuid);
    const { rowCount } = await raw.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1",
      [listenerName(`${tablePrefix}visitors_changed`)],
    );
    expect(rowCount).toBe(1);
    // Once the app has seen its connection go, unannounced changes are seen at once.
    let attempt = 0;
    await vi.waitFor(
      async () => {
        const name = `while away ${++attempt}`;
        await renameUnannounced(visitor.uuid, name);
        expect((await app.get(visitor.uuid))?.firstName).toBe(name);
      },
      { timeout: 900, interval: 10 },
    );
    // Listening again (on demand): cached once more, and kept in step by notices.
    await untilCached(visitor.uuid);
    await operator.deactivate(visitor.uuid);
    await inactiveSoon(visitor.uuid);
  });
});

/**
 * The trigger that announces changes is in the database only while `passCache: "listen"` is
 * chosen: `migrate()` installs it with "listen" and drops it without, databases migrated by a
 * version that installed it everywhere included.
 */
describe.skipIf(!postgres.url)("the notify trigger on PostgreSQL", () => {
  let tablePrefix: string;
  let raw: pg.Client;
  const services: VisitorPass[] = [];

  beforeEach(async () => {
    tablePrefix = `t${randomBytes(4).toString("hex")}_`;
    raw = new pg.Client({ connectionString: postgres.url! });
    await raw.connect();
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.close()));
    for (const table of ["visitor_logs", "visitors", "migrations", "migrations_lock"]) {
      await raw.query(`drop table if exists "${tablePrefix}${table}"`);
    }
    await raw.query(`drop function if exists "${tablePrefix}visitors_notify"()`);
    await raw.end();
  });

  function service(listen: boolean): VisitorPass {
    const created = createVisitorPass({
      database: postgres.url!,
      tablePrefix,
      env: {},
      ...(listen ? { passCache: "listen" as const } : {}),
    });
    services.push(created);
    return created;
  }

  /** The trigger on the passes table and its function, as the database has them. */
  async function installed(): Promise<{ triggers: number; functions: number }> {
    const triggers = await raw.query(
      "select 1 from pg_trigger where tgname = $1 and tgrelid = to_regclass($2)",
      [`${tablePrefix}visitors_notify_changes`, `"${tablePrefix}visitors"`],
    );
    const functions = await raw.query("select 1 from pg_proc where proname = $1", [
      `${tablePrefix}visitors_notify`,
    ]);
    return { triggers: triggers.rowCount ?? 0, functions: functions.rowCount ?? 0 };
  }

  /** What the previous version's migration left in every PostgreSQL database. */
  async function installAsBefore(): Promise<void> {
    const channel = `${tablePrefix}visitors_changed`;
    await raw.query(`create or replace function "${tablePrefix}visitors_notify"() returns trigger
      language plpgsql as $$ begin perform pg_notify('${channel}', ''); return null; end $$`);
    await raw.query(`create trigger "${tablePrefix}visitors_notify_changes" after update or delete
      or truncate on "${tablePrefix}visitors" for each statement
      execute function "${tablePrefix}visitors_notify"()`);
  }

  /** A raw connection listening on the channel; `arrived()` once a notice came. */
  async function listening(): Promise<{ arrived: () => boolean; end: () => Promise<void> }> {
    const client = new pg.Client({ connectionString: postgres.url! });
    await client.connect();
    let notices = 0;
    client.on("notification", () => notices++);
    await client.query(`LISTEN "${tablePrefix}visitors_changed"`);
    return { arrived: () => notices > 0, end: () => client.end() };
  }

  it("without listen, migrate() installs none; with listen it does, and changes are announced", async () => {
    const plain = service(false);
    await plain.migrate();
    expect(await installed()).toEqual({ triggers: 0, functions: 0 });
    const visitor = await plain.create({ email: "ginger@example.org", scope: "REF" });
    const quiet = await listening();
    try {
      await plain.deactivate(visitor.uuid);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(quiet.arrived()).toBe(false);
    } finally {
      await quiet.end();
    }

    await service(true).migrate();
    expect(await installed()).toEqual({ triggers: 1, functions: 1 });
    const heard = await listening();
    try {
      await plain.reactivate(visitor.uuid);
      await vi.waitFor(() => expect(heard.arrived()).toBe(true), { timeout: 2000, interval: 10 });
    } finally {
      await heard.end();
    }
  });

  it("a database migrated when every database got the trigger: dropped without listen, kept with it", async () => {
    await service(false).migrate();
    await installAsBefore();
    await service(false).migrate();
    expect(await installed()).toEqual({ triggers: 0, functions: 0 });

    await installAsBefore();
    const app = service(true);
    await app.migrate();
    expect(await installed()).toEqual({ triggers: 1, functions: 1 });
    const visitor = await app.create({ email: "ginger@example.org", scope: "REF" });
    const heard = await listening();
    try {
      await service(false).deactivate(visitor.uuid);
      await vi.waitFor(() => expect(heard.arrived()).toBe(true), { timeout: 2000, interval: 10 });
    } finally {
      await heard.end();
    }
  });

  it("several processes migrating at once, with listen or without, all succeed", async () => {
    await Promise.all([service(true).migrate(), service(true).migrate(), service(true).migrate()]);
    expect(await installed()).toEqual({ triggers: 1, functions: 1 });
    await Promise.all([service(true).migrate(), service(true).migrate(), service(true).migrate()]);
    expect(await installed()).toEqual({ triggers: 1, functions: 1 });
    await Promise.all([
      service(false).migrate(),
      service(false).migrate(),
      service(false).migrate(),
    ]);
    expect(await installed()).toEqual({ triggers: 0, functions: 0 });
  });

  it("a process listening keeps it through a migrate() without listen, and puts back one dropped before it listened", async () => {
    const app = service(true);
    const operator = service(false);
    await app.migrate();
    await operator.migrate(); // the app is not listening yet: dropped
    expect(await installed()).toEqual({ triggers: 0, functions: 0 });
    const visitor = await operator.create({ email: "ginger@example.org", scope: "REF" });
    // The app listens on its first lookup, and installs the trigger it needs.
    await vi.waitFor(
      async () => {
        await app.get(visitor.uuid);
        expect(await installed()).toEqual({ triggers: 1, functions: 1 });
      },
      { timeout: 5000, interval: 50 },
    );
    await operator.migrate(); // the app listens: kept
    expect(await installed()).toEqual({ triggers: 1, functions: 1 });
    expect((await app.get(visitor.uuid))?.isActive).toBe(true);
    await operator.deactivate(visitor.uuid);
    await vi.waitFor(async () => expect((await app.get(visitor.uuid))?.isActive).toBe(false), {
      timeout: 1000,
      interval: 5,
    });
  });
});

describe('passCache: "listen" elsewhere', () => {
  it.skipIf(!mysql.url)("is refused on MySQL, which has no notifications", () => {
    expect(() => createVisitorPass({ database: mysql.url!, passCache: "listen", env: {} })).toThrow(
      VisitorPassConfigError,
    );
  });

  it("is refused on SQLite, where the default cache is already exact", () => {
    expect(() =>
      createVisitorPass({ database: "sqlite::memory:", passCache: "listen", env: {} }),
    ).toThrow(VisitorPassConfigError);
  });
});
