import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, sql } from "kysely";
import { afterAll, beforeAll } from "vitest";
import type { VisitorPass, VisitorPassOptions } from "../../src/index.js";
import { KyselyStore } from "../../src/store/kysely/kysely-store.js";
import { MemoryStore } from "../../src/store/memory/memory-store.js";
import type { VisitorStore } from "../../src/store/store.js";
import { openPasses, type TestDatabase } from "../support/databases.js";

/** A clock the tests move by hand; `now` is what the pass service is given. */
export class Clock {
  #time: number;

  constructor(start = Date.parse("2031-05-06T07:08:09.123Z")) {
    this.#time = start;
  }

  readonly now = (): Date => new Date(this.#time);

  set(date: Date): void {
    this.#time = date.getTime();
  }

  advance(ms: number): Date {
    this.#time += ms;
    return this.now();
  }
}

let sqliteDir: string | null = null;

/** A fresh SQLite file in this run's temporary directory (removed by `removeSqliteFiles`). */
export function sqliteFileUrl(): string {
  sqliteDir ??= mkdtempSync(join(tmpdir(), "visitor-pass-storage-"));
  return `sqlite:${join(sqliteDir, `${randomBytes(4).toString("hex")}.sqlite3`)}`;
}

export function removeSqliteFiles(): void {
  if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
  sqliteDir = null;
}

/**
 * The database the storage suites use: PostgreSQL and MySQL as configured, SQLite as a file of
 * its own (not `:memory:`), so that a second connection sees the same data and WAL applies.
 */
export function onDisk(database: TestDatabase): TestDatabase {
  return database.name === "sqlite" ? { ...database, url: sqliteFileUrl() } : database;
}

export function randomPrefix(): string {
  return `s${randomBytes(4).toString("hex")}_`;
}

export interface Storage {
  database: TestDatabase;
  passes: VisitorPass;
  /**
   * The same passes through the storage port, on a connection (pool) of its own: on a SQL
   * database a `KyselyStore` on the same tables, in memory another connection to the same store.
   */
  store: VisitorStore;
  /** `store` as a `KyselyStore`, for tests of SQL databases only (`database.sql`). */
  sql: KyselyStore;
  prefix: string;
  clock: Clock;
  cleanup: () => Promise<void>;
}

/** A migrated pass service on a clock of its own, plus a store on the same passes. */
export async function openStorage(
  database: TestDatabase,
  options: VisitorPassOptions = {},
): Promise<Storage> {
  const clock = new Clock();
  const target = onDisk(database);
  const opened = await openPasses(target, { now: clock.now, ...options });
  const store = secondStore(opened.passes, opened.prefix);
  return {
    database: target,
    passes: opened.passes,
    store,
    get sql(): KyselyStore {
      if (store instanceof KyselyStore) return store;
      throw new Error(`${database.name} is not a SQL database: mark the test \`database.sql\``);
    },
    prefix: opened.prefix,
    clock,
    cleanup: async () => {
      await store.close();
      await opened.cleanup();
    },
  };
}

/**
 * Another store on the passes of `passes` (SQLite: a second connection to the same file; memory:
 * a second connection to the same store); the caller closes it.
 */
export function secondStore(passes: VisitorPass, prefix: string): VisitorStore {
  const own = passes.config.store;
  if (own instanceof MemoryStore) return own.connect();
  if (own) throw new Error("a store of unknown kind");
  return new KyselyStore(passes.config.database, prefix);
}

/** `openStorage` for the enclosing `describe`: opened before its tests, cleaned up after. */
export function useStorage(database: TestDatabase, options: VisitorPassOptions = {}): Storage {
  const storage = {} as Storage;
  beforeAll(async () => {
    Object.defineProperties(
      storage,
      Object.getOwnPropertyDescriptors(await openStorage(database, options)),
    );
  });
  afterAll(async () => {
    await storage.cleanup?.();
  });
  return storage;
}

/** A Kysely instance built the way an application would build its own, on `database`. */
export async function appKysely(database: TestDatabase): Promise<Kysely<any>> {
  const url = database.url!;
  switch (database.name) {
    case "memory":
      throw new Error("the memory store has no SQL database");
    case "sqlite": {
      const { default: Sqlite } = await import("better-sqlite3");
      return new Kysely({
        dialect: new SqliteDialect({ database: new Sqlite(url.slice("sqlite:".length)) }),
      });
    }
    case "postgres": {
      const { default: pg } = await import("pg");
      return new Kysely({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }),
      });
    }
    case "mysql": {
      const { createPool } = await import("mysql2");
      return new Kysely({ dialect: new MysqlDialect({ pool: createPool({ uri: url }) as never }) });
    }
  }
}

/** The tables of one prefix, unprefixed, in alphabetical order. */
export const TABLES = ["migrations", "migrations_lock", "visitor_logs", "visitors"];

/** Drops the tables of `prefix` (logs before the passes they reference). */
export async function dropTables(db: Kysely<any>, prefix: string): Promise<void> {
  for (const table of ["visitor_logs", "visitors", "migrations", "migrations_lock"]) {
    await sql`drop table if exists ${sql.table(`${prefix}${table}`)}`.execute(db);
  }
  // PostgreSQL keeps the trigger function of migration 0005 when its table goes.
  if (db.getExecutor().adapter.constructor.name.toLowerCase().includes("postgres")) {
    await sql`drop function if exists ${sql.id(`${prefix}visitors_notify`)}()`.execute(db);
  }
}

/** The names of the tables Kysely finds in the database. */
export async function tableNamesIn(db: Kysely<any>): Promise<string[]> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  return tables.map((table) => table.name);
}

export async function countRows(db: Kysely<any>, table: string, where?: ReturnType<typeof sql>) {
  const query = where
    ? sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)} where ${where}`
    : sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`;
  const { rows } = await query.execute(db);
  return Number(rows[0]?.n);
}

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
