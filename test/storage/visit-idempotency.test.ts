import { randomUUID } from "node:crypto";
import { Migrator, sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { createVisitorPass } from "../../src/index.js";
import { KyselyStore } from "../../src/store/kysely/kysely-store.js";
import { migrations } from "../../src/store/kysely/migrations.js";
import { tableNames } from "../../src/store/kysely/schema.js";
import type { NewVisitorLog, VisitorStore } from "../../src/store/store.js";
import { STORES } from "../support/databases.js";
import {
  countRows,
  dropTables,
  onDisk,
  randomPrefix,
  removeSqliteFiles,
  useStorage,
} from "./support.js";

afterAll(removeSqliteFiles);

const GONE = 987_654_321;

function visit(
  visitorId: number,
  requestUri: string,
  idempotencyKey: string | null = randomUUID(),
) {
  return {
    visitorId,
    sessionKey: "sess-1",
    httpMethod: "GET",
    requestUri,
    queryString: "",
    httpUserAgent: "Mozilla/5.0",
    httpReferer: null,
    remoteAddr: "203.0.113.7",
    statusCode: 200,
    timestamp: new Date(1_700_000_000_000),
    idempotencyKey,
  } satisfies NewVisitorLog;
}

/** What a log keeps of a visit, as it was given and as it is read back. */
const kept = (log: Omit<NewVisitorLog, "visitorId">) => ({
  requestUri: log.requestUri,
  sessionKey: log.sessionKey,
  queryString: log.queryString,
  httpUserAgent: log.httpUserAgent,
  httpReferer: log.httpReferer,
  statusCode: log.statusCode,
  timestamp: log.timestamp.getTime(),
});

const uris = async (store: VisitorStore, visitorId: number) =>
  (await store.logs(visitorId)).map((log) => log.requestUri).sort();

for (const database of STORES) {
  /** Migrations, and the key column no port method reads back, exist only in SQL databases. */
  const notSql = !database.url || !database.sql;
  describe.skipIf(!database.url)(`each visit is written once on ${database.name}`, () => {
    const storage = useStorage(database);

    it("a batch written again skips the visits already stored, and refuses none", async () => {
      const { passes, store } = storage;
      const pass = await passes.create({ email: "again@example.org", scope: "S" });
      const a = visit(pass.id, "/a");
      const b = visit(pass.id, "/b");
      expect(await store.insertLogs([a, b])).toBe(0);
      expect(await store.insertLogs([a, b, visit(pass.id, "/c")])).toBe(0);
      expect(await store.insertLogs([b])).toBe(0);
      expect(await uris(store, pass.id)).toEqual(["/a", "/b", "/c"]);
    });

    it("the same visit twice in one batch is stored once", async () => {
      const { passes, store } = storage;
      const pass = await passes.create({ email: "twice@example.org", scope: "S" });
      const a = visit(pass.id, "/a");
      expect(await store.insertLogs([a, visit(pass.id, "/b"), a])).toBe(0);
      expect(await uris(store, pass.id)).toEqual(["/a", "/b"]);
    });

    it("still refuses, and counts, the visits of a deleted pass when the batch comes again", async () => {
      const { passes, store } = storage;
      const pass = await passes.create({ email: "refused@example.org", scope: "S" });
      const batch = [visit(pass.id, "/before"), visit(GONE, "/gone"), visit(pass.id, "/after")];
      expect(await store.insertLogs(batch)).toBe(1);
      expect(await store.insertLogs(batch)).toBe(1);
      expect(await uris(store, pass.id)).toEqual(["/after", "/before"]);
      expect(await store.logs(GONE)).toEqual([]);
    });

    it("visits without a key are each stored (as logs from before the key are)", async () => {
      const { passes, store } = storage;
      const pass = await passes.create({ email: "keyless@example.org", scope: "S" });
      const keyless = visit(pass.id, "/same", null);
      expect(await store.insertLogs([keyless, keyless])).toBe(0);
      expect(await store.insertLogs([{ ...keyless, idempotencyKey: undefined }])).toBe(0);
      expect(await uris(store, pass.id)).toEqual(["/same", "/same", "/same"]);
    });

    it("keeps every value of a batch as given: quotes, braces, backslashes, commas, NULLs", async () => {
      const { passes, store } = storage;
      const pass = await passes.create({ email: "values@example.org", scope: "S" });
      const odd = [
        'a "quoted" value',
        "{braced,listed}",
        "back\\slash\\",
        "NULL",
        "",
        "comma, and 'single' quotes",
        "ünï©ødé 🎟",
      ];
      const batch = odd.map((text, index) => ({
        ...visit(pass.id, `/odd/${index}`),
        sessionKey: index === 0 ? null : text,
        queryString: text,
        httpUserAgent: index === 1 ? null : text,
        httpReferer: index === 2 ? null : text,
        statusCode: 200 + index,
        timestamp: new Date(1_700_000_000_000 + index),
      }));
      expect(await store.insertLogs(batch)).toBe(0);
      const stored = (await store.logs(pass.id)).sort((a, b) =>
        a.requestUri.localeCompare(b.requestUri),
      );
      expect(stored.map(kept)).toEqual(batch.map(kept));
    });

    it.skipIf(notSql)("stores the key given with the visit", async () => {
      const { passes, sql: store, prefix } = storage;
      const pass = await passes.create({ email: "keys@example.org", scope: "S" });
      const a = visit(pass.id, "/x");
      await store.insertLogs([a]);
      const { rows } = await sql<{ key: string | null }>`select idempotency_key as ${sql.id("key")}
        from ${sql.table(`${prefix}visitor_logs`)} where visitor_id = ${pass.id}`.execute(store.db);
      expect(rows).toEqual([{ key: a.idempotencyKey }]);
    });
  });

  describe.skipIf(notSql)(`adding the key to existing logs on ${database.name}`, () => {
    it("keeps the logs written before 0006, with no key, and writes keyed visits once after", async () => {
      const target = onDisk(database);
      const prefix = randomPrefix();
      const t = tableNames(prefix);
      const store = new KyselyStore(
        target.name === "sqlite"
          ? { kind: "sqlite", filename: target.url!.slice("sqlite:".length) }
          : { kind: target.name as "postgres" | "mysql", url: target.url! },
        prefix,
      );
      const passes = createVisitorPass({ database: target.url!, tablePrefix: prefix, env: {} });
      try {
        // The tables as they were before the key.
        const all = migrations(store.dialect, t);
        const before = Object.fromEntries(Object.entries(all).filter(([name]) => name < "0006"));
        const old = new Migrator({
          db: store.db,
          provider: { getMigrations: async () => before },
          migrationTableName: t.migrations,
          migrationLockTableName: t.migrationLock,
        });
        expect((await old.migrateToLatest()).error).toBeUndefined();
        const pass = await passes.create({ email: "old@example.org", scope: "S" });
        for (const uri of ["/old-1", "/old-2"]) {
          await sql`insert into ${sql.table(t.logs)} (visitor_id, http_method, request_uri,
              query_string, timestamp) values (${pass.id}, 'GET', ${uri}, '', ${Date.now()})`.execute(
            store.db,
          );
        }

        await passes.migrate();
        await passes.migrate();
        const keyed = visit(pass.id, "/new");
        expect(await store.insertLogs([keyed])).toBe(0);
        expect(await store.insertLogs([keyed])).toBe(0);
        expect(await uris(store, pass.id)).toEqual(["/new", "/old-1", "/old-2"]);
        const keyless = sql`idempotency_key is null`;
        expect(await countRows(store.db, t.logs, keyless)).toBe(2);
        // The key is unique in the table itself, whatever writes to it.
        const copy = sql`insert into ${sql.table(t.logs)} (visitor_id, http_method, request_uri,
            query_string, timestamp, idempotency_key)
          values (${pass.id}, 'GET', '/copy', '', ${Date.now()}, ${keyed.idempotencyKey})`;
        await expect(copy.execute(store.db)).rejects.toThrow();
      } finally {
        await passes.close();
        await dropTables(store.db, prefix);
        await store.close();
      }
    });
  });
}
