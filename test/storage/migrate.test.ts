import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { createVisitorPass } from "../../src/index.js";
import { KyselyStore } from "../../src/store/kysely/kysely-store.js";
import { DATABASES, openPasses, STORES } from "../support/databases.js";
import {
  appKysely,
  countRows,
  dropTables,
  onDisk,
  randomPrefix,
  removeSqliteFiles,
  TABLES,
  tableNamesIn,
} from "./support.js";

afterAll(removeSqliteFiles);

for (const database of STORES) {
  describe.skipIf(!database.url)(`migrating on ${database.name}`, () => {
    it("migrate() again keeps every pass as it was", async () => {
      const { passes, cleanup } = await openPasses(onDisk(database));
      try {
        const created = await passes.create({ email: "kept@example.org", scope: "S", maxUses: 3 });
        await passes.migrate();
        await passes.migrate();
        expect((await passes.get(created.uuid))?.serialize()).toEqual(created.serialize());
        expect(await passes.count()).toBe(1);
      } finally {
        await cleanup();
      }
    });

    it("close() can be called twice", async () => {
      const { passes, cleanup } = await openPasses(onDisk(database));
      await cleanup();
      await expect(passes.close()).resolves.toBeUndefined();
    });
  });
}

// The tables, migrations and connections of SQL databases (`DATABASES` are all SQL).
for (const database of DATABASES.filter((database) => database.sql)) {
  describe.skipIf(!database.url)(`migrations and connections on ${database.name}`, () => {
    it("migrate() twice in a row changes nothing the second time", async () => {
      const { passes, prefix, cleanup } = await openPasses(onDisk(database));
      const store = new KyselyStore(passes.config.database, prefix);
      try {
        const created = await passes.create({ email: "a@example.org", scope: "S" });
        const applied = await countRows(store.db, `${prefix}migrations`);
        expect(applied).toBeGreaterThan(0);
        // The count it resolves to is what lets `visitor-pass migrate` say "up to date".
        expect(await passes.migrate()).toBe(0);
        expect(await passes.migrate()).toBe(0);
        expect(await countRows(store.db, `${prefix}migrations`)).toBe(applied);
        expect((await passes.get(created.uuid))?.email).toBe("a@example.org");
      } finally {
        await store.close();
        await cleanup();
      }
    });

    it("three services migrating the same prefix at once all succeed, migrating once", async () => {
      const target = onDisk(database);
      const prefix = randomPrefix();
      const options = { database: target.url!, tablePrefix: prefix, env: {} };
      const first = createVisitorPass(options);
      const second = createVisitorPass(options);
      const third = createVisitorPass(options);
      const store = new KyselyStore(first.config.database, prefix);
      try {
        const counts = await Promise.all([first.migrate(), second.migrate(), third.migrate()]);
        const applied = await countRows(store.db, `${prefix}migrations`);
        expect(applied).toBeGreaterThan(0);
        // Each migration applied by exactly one of them, and each says how many it applied.
        expect(counts.reduce((a, b) => a + b, 0)).toBe(applied);
        expect(await first.migrate()).toBe(0);
        expect(await countRows(store.db, `${prefix}migrations`)).toBe(applied);
        const created = await first.create({ email: "race@example.org", scope: "S" });
        expect((await second.get(created.uuid))?.id).toBe(created.id);
      } finally {
        await dropTables(store.db, prefix);
        await Promise.all([first.close(), second.close(), third.close(), store.close()]);
      }
    });

    it("puts every table under the configured prefix, and two prefixes coexist", async () => {
      const target = onDisk(database);
      const one = await openPasses(target);
      const two = await openPasses(target);
      const store = new KyselyStore(one.passes.config.database, one.prefix);
      try {
        const tables = await tableNamesIn(store.db);
        for (const prefix of [one.prefix, two.prefix]) {
          expect(tables.filter((name) => name.startsWith(prefix)).sort()).toEqual(
            TABLES.map((name) => `${prefix}${name}`),
          );
        }

        const a = await one.passes.create({ email: "one@example.org", scope: "S" });
        const b = await two.passes.create({ email: "two@example.org", scope: "S" });
        expect(await one.passes.get(b.uuid)).toBeNull();
        expect(await two.passes.get(a.uuid)).toBeNull();
        expect((await one.passes.list()).map((v) => v.email)).toEqual(["one@example.org"]);
        expect((await two.passes.list()).map((v) => v.email)).toEqual(["two@example.org"]);
        expect(await countRows(store.db, `${one.prefix}visitors`)).toBe(1);
        expect(await countRows(store.db, `${two.prefix}visitors`)).toBe(1);
      } finally {
        await store.close();
        await one.cleanup();
        await two.cleanup();
      }
    });

    it("works on a Kysely instance the app owns, and close() leaves it open", async () => {
      const target = onDisk(database);
      const db = await appKysely(target);
      const prefix = randomPrefix();
      try {
        const passes = createVisitorPass({ database: db, tablePrefix: prefix, env: {} });
        await passes.migrate();
        const created = await passes.create({
          email: "app@example.org",
          scope: "S",
          context: { a: [1, { b: "ü" }] },
          maxUses: 2,
        });
        const found = await passes.get(created.uuid);
        expect(found?.serialize()).toEqual(created.serialize());
        expect(found?.isActive).toBe(true);
        await passes.close();

        const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
        expect(Number(rows[0]?.one)).toBe(1);
        expect(await countRows(db, `${prefix}visitors`)).toBe(1);
      } finally {
        await dropTables(db, prefix);
        await db.destroy();
      }
    });

    it("close() can be called twice", async () => {
      const { passes, cleanup } = await openPasses(onDisk(database));
      await cleanup();
      await expect(passes.close()).resolves.toBeUndefined();
    });
  });
}

const sqlite = DATABASES.find((database) => database.name === "sqlite")!;

describe("SQLite specifics", () => {
  it("a file database runs in WAL mode and enforces foreign keys", async () => {
    const { passes, prefix, cleanup } = await openPasses(onDisk(sqlite));
    // Pragmas are per connection: this one is opened exactly as the service opens its own.
    const store = new KyselyStore(passes.config.database, prefix);
    try {
      const { rows: mode } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(
        store.db,
      );
      expect(mode[0]?.journal_mode).toBe("wal");
      const { rows: keys } = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(
        store.db,
      );
      expect(keys[0]?.foreign_keys).toBe(1);
      // Enforced: the store reports the row as refused instead of writing it.
      await expect(
        store.insertLogs([
          {
            visitorId: 987654,
            sessionKey: null,
            httpMethod: "GET",
            requestUri: "/",
            queryString: "",
            httpUserAgent: null,
            httpReferer: null,
            remoteAddr: null,
            statusCode: 200,
            timestamp: new Date(),
          },
        ]),
      ).resolves.toBe(1);
      expect(await store.logs(987654)).toEqual([]);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it("sqlite::memory: works through the public API", async () => {
    const { passes, cleanup } = await openPasses(sqlite);
    try {
      const created = await passes.create({ email: "m@example.org", scope: "S" });
      expect((await passes.get(created.uuid))?.uuid).toBe(created.uuid);
    } finally {
      await cleanup();
    }
  });
});

const mysql = DATABASES.find((database) => database.name === "mysql")!;

describe.skipIf(!mysql.url)("MySQL/MariaDB specifics", () => {
  it("stores four-byte characters even where the database's default charset is latin1", async (context) => {
    const admin = new KyselyStore({ kind: "mysql", url: mysql.url! }, "");
    const schema = `vp_latin1_${randomPrefix().slice(1, -1)}`;
    try {
      await sql`create database ${sql.id(schema)} character set latin1`.execute(admin.db);
    } catch {
      await admin.close();
      context.skip();
      return;
    }
    const url = new URL(mysql.url!);
    url.pathname = `/${schema}`;
    const passes = createVisitorPass({ database: url.toString(), env: {} });
    try {
      await passes.migrate();
      const created = await passes.create({
        email: "emoji@example.org",
        scope: "Scope 🎟️",
        firstName: "Zoë 🎉",
        context: { note: "日本語 🐘" },
      });
      const found = await passes.get(created.uuid);
      expect(found?.firstName).toBe("Zoë 🎉");
      expect(found?.scope).toBe("Scope 🎟️");
      expect(found?.context).toEqual({ note: "日本語 🐘" });
    } finally {
      await passes.close();
      await sql`drop database ${sql.id(schema)}`.execute(admin.db);
      await admin.close();
    }
  });
});
