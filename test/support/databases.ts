import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { createVisitorPass, type VisitorPass, type VisitorPassOptions } from "../../src/index.js";
import { MemoryStore } from "../../src/store/memory/memory-store.js";

/** A database the suites run against; `url` is null when it is not configured here. */
export interface TestDatabase {
  name: "memory" | "sqlite" | "postgres" | "mysql";
  url: string | null;
  /** Whether it is a SQL database, with tables that Kysely and raw SQL can reach. */
  sql: boolean;
  /** Why it is skipped, when `url` is null. */
  skipped: string | null;
}

const required = process.env.VISITOR_PASS_REQUIRE_SERVICES === "1";

function service(name: "postgres" | "mysql", variable: string): TestDatabase {
  const url = process.env[variable]?.trim() || null;
  if (!url && required) {
    throw new Error(
      `${variable} is not set, and VISITOR_PASS_REQUIRE_SERVICES=1 forbids skipping ${name}.`,
    );
  }
  return { name, url, sql: true, skipped: url ? null : `${variable} is not set` };
}

/** SQLite always; PostgreSQL and MySQL/MariaDB when their URLs are set. */
export const DATABASES: TestDatabase[] = [
  { name: "sqlite", url: "sqlite::memory:", sql: true, skipped: null },
  service("postgres", "VISITOR_PASS_TEST_POSTGRES_URL"),
  service("mysql", "VISITOR_PASS_TEST_MYSQL_URL"),
];

/** The storage port in memory (`MemoryStore`): no database at all. */
export const MEMORY: TestDatabase = { name: "memory", url: "memory:", sql: false, skipped: null };

/** What the storage conformance suites run on: the memory store, then every SQL database. */
export const STORES: TestDatabase[] = [MEMORY, ...DATABASES];

/**
 * A migrated pass service on `database`, in tables of its own (a random prefix), so that test
 * files can share one server in parallel. `cleanup()` drops the tables and closes it.
 */
export async function openPasses(
  database: TestDatabase,
  options: VisitorPassOptions = {},
): Promise<{ passes: VisitorPass; prefix: string; cleanup: () => Promise<void> }> {
  if (!database.url) throw new Error(`${database.name} is not configured: ${database.skipped}`);
  const prefix = options.tablePrefix ?? `t${randomBytes(4).toString("hex")}_`;
  const passes = createVisitorPass({
    ...(database.sql ? { database: database.url } : { store: new MemoryStore() }),
    env: {},
    ...options,
    tablePrefix: prefix,
  });
  await passes.migrate();
  return {
    passes,
    prefix,
    cleanup: async () => {
      // Close first: it writes the visit logs still queued, which need the tables.
      await passes.close();
      await dropTables(passes, prefix);
    },
  };
}

async function dropTables(passes: VisitorPass, prefix: string): Promise<void> {
  if (passes.config.store || passes.config.database.kind === "sqlite") return;
  const { KyselyStore } = await import("../../src/store/kysely/kysely-store.js");
  const store = new KyselyStore(passes.config.database, prefix);
  try {
    for (const table of ["throttle", "visitor_logs", "visitors", "migrations", "migrations_lock"]) {
      await sql`drop table if exists ${sql.table(`${prefix}${table}`)}`.execute(store.db);
    }
    if (passes.config.database.kind === "postgres") {
      // PostgreSQL keeps the trigger function of migration 0005 when its table goes.
      await sql`drop function if exists ${sql.id(`${prefix}visitors_notify`)}()`.execute(store.db);
    }
  } finally {
    await store.close();
  }
}
