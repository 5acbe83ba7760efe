import type { AddressInfo } from "node:net";
import express from "express";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type VisitorPass, VisitorPassStorageFull } from "../../src/index.js";
import { KyselyStore } from "../../src/store/kysely/kysely-store.js";
import { DATABASES, openPasses } from "../support/databases.js";

/**
 * PostgreSQL and MariaDB out of space, as the server reports it: a trigger on the passes table
 * raises the very error a full disk gives (PostgreSQL SQLSTATE 53100 disk_full; MariaDB errno
 * 1114, "The table is full"), so the package meets the database's own answer, not a stand-in.
 */
const SERVERS = DATABASES.filter((database) => database.name !== "sqlite");

for (const database of SERVERS) {
  describe.skipIf(!database.url)(`a full disk on ${database.name}`, () => {
    let passes: VisitorPass;
    let prefix: string;
    let cleanup: () => Promise<void>;
    let store: KyselyStore;
    let db: Kysely<any>;

    beforeAll(async () => {
      ({ passes, prefix, cleanup } = await openPasses(database));
      store = new KyselyStore(passes.config.database, prefix);
      db = store.db;
      const table = sql.table(`${prefix}visitors`);
      const trigger = sql.id(`${prefix}full`);
      if (database.name === "postgres") {
        await sql`create function ${trigger}() returns trigger language plpgsql as $$
          begin raise exception 'could not extend file: No space left on device'
            using errcode = '53100'; end $$`.execute(db);
        await sql`create trigger ${trigger} before insert on ${table}
          for each row execute function ${trigger}()`.execute(db);
      } else {
        await sql`create trigger ${trigger} before insert on ${table} for each row
          signal sqlstate 'HY000' set mysql_errno = 1114,
          message_text = 'The table is full'`.execute(db);
      }
    });

    afterAll(async () => {
      await sql`drop trigger if exists ${sql.id(`${prefix}full`)}${
        database.name === "postgres" ? sql` on ${sql.table(`${prefix}visitors`)}` : sql``
      }`.execute(db);
      if (database.name === "postgres") {
        await sql`drop function if exists ${sql.id(`${prefix}full`)}()`.execute(db);
      }
      await store.close();
      await cleanup();
    });

    it("create() throws VisitorPassStorageFull with the database's error as cause", async () => {
      const error = await passes
        .create({ email: "ginger@example.org", scope: "REFERENCE_REQUEST" })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(VisitorPassStorageFull);
      expect((error as VisitorPassStorageFull).status).toBe(503);
      expect((error as VisitorPassStorageFull).code).toBe("VISITOR_PASS_STORAGE_FULL");
      expect((error as Error).cause).toBeTruthy();
    });

    it("an app's route creating a pass answers 503, not 500", async () => {
      const app = express();
      app.post("/ask", async (_req, res, next) => {
        try {
          await passes.create({ email: "ginger@example.org", scope: "REFERENCE_REQUEST" });
          res.status(201).end();
        } catch (error) {
          next(error);
        }
      });
      const server = app.listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const answer = await fetch(`http://127.0.0.1:${port}/ask`, { method: "POST" });
        expect(answer.status).toBe(503);
      } finally {
        server.close();
      }
    });
  });
}
