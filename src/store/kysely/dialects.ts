import {
  type ColumnDataType,
  type CreateTableBuilder,
  type Expression,
  type Kysely,
  type RawBuilder,
  sql,
} from "kysely";

/** A column type: a name Kysely knows, or raw SQL. */
type DataTypeExpression = ColumnDataType | Expression<unknown>;

/**
 * What differs between the databases the store speaks, declared once per database: every other
 * file of the store asks its `StoreDialect` rather than which database it is on. Adding a
 * database means adding one object here (and its driver in `connect.ts`).
 */

export type SqlFamily = "sqlite" | "postgres" | "mysql";

export interface StoreDialect {
  readonly name: SqlFamily;
  /** The driver package, named when it is missing (see `importDriver`). */
  readonly driver: {
    /** The database as people call it. */
    readonly label: string;
    readonly package: string;
    /** What `npm install` is told. */
    readonly install: string;
    /** The database option as shown in an error: never the URL itself, which may hold a password. */
    readonly shown: string;
  };

  // ---- Statements

  /** Whether an insert or update can return its rows (`returning`); else they are read back. */
  readonly supportsReturning: boolean;
  /** A boolean as the database takes it: SQLite has none, and stores 1 or 0. */
  bool(value: boolean): number | boolean;
  /** An identifier, quoted (for the few statements written as text). */
  quoteId(name: string): string;
  /** The placeholder of the parameter at `position` (from 1) of a statement written as text. */
  placeholder(position: number): string;
  /**
   * The end of an insert that skips a row whose unique `key` is already stored, and fails on any
   * other refusal (a row whose pass is gone must still fail: hence no MySQL `insert ignore`).
   */
  skipDuplicate(key: string): string;
  /**
   * Whether a batch of rows is inserted from one array per column (`insert … select * from
   * unnest($1::bigint[], …)`): a statement of the same short text whatever the number of rows,
   * with one parameter per column, which PostgreSQL parses and plans at a fraction of the cost of
   * a `values` list with a parameter per cell (bench/README.md). Else a multi-row `values` list.
   */
  readonly columnArrays: boolean;
  /**
   * A condition to add to `column = value` where the database's `=` is not exact (MySQL's ignores
   * trailing spaces, even in a binary collation); absent where it is.
   */
  readonly exactly?: (column: string, value: string) => RawBuilder<boolean>;

  // ---- Faults

  /** The database refused a row (foreign key, unique, not null…), as opposed to being unreachable. */
  isConstraintViolation(error: unknown): boolean;
  /** The database refused a write for lack of space. */
  isStorageFull(error: unknown): boolean;
  /**
   * Whether a store call waits for a server, and so gets `storeTimeout` as its deadline
   * (`store-deadline.ts`). SQLite's statements run in the process: they bound their own waits for
   * another connection's lock instead (`sqlite-busy-retry.ts`), and name a full disk there.
   */
  readonly callDeadline: boolean;

  // ---- Change feed

  /**
   * How the store learns that passes changed behind its back, for the pass cache
   * (`change-feed.ts`): SQLite's `PRAGMA data_version`, PostgreSQL notifications (with
   * `passCache: "listen"`), or none.
   */
  readonly changeFeed: "data-version" | "listen" | null;

  // ---- Migrations

  readonly schema: {
    /** The type of an identity column (`big`: 64-bit where it matters). */
    identity(big: boolean): DataTypeExpression;
    /** Whether an identity column says `autoincrement` (PostgreSQL's serial types need none). */
    readonly autoIncrement: boolean;
    readonly boolean: DataTypeExpression;
    /** Text without a size limit (MySQL's `text` holds 64 KiB). */
    readonly text: DataTypeExpression;
    /** What every table is created with (on MySQL its character set and collation). */
    tableOptions<B extends CreateTableBuilder<any, any>>(table: B): B;
    /** Whether `drop index` names the table (MySQL), and so has no `if exists`. */
    readonly dropIndexOnTable: boolean;
    /**
     * Whether Kysely's migration lock serialises concurrent runs. Where it does not (SQLite), a
     * migration must be safe to repeat: it skips the columns already there (`existingColumns`)
     * and creates its indexes `if not exists`.
     */
    readonly migrationLock: boolean;
    /** The columns of `table`, where there is no migration lock; an empty set elsewhere. */
    existingColumns(db: Kysely<any>, table: string): Promise<Set<string>>;
    /** Whether a failed run leaves nothing applied (schema changes are transactional). */
    readonly transactionalDdl: boolean;
    /** Runs of `migrateToLatest` before it gives up on a race. */
    readonly attempts: number;
  };
}

/** A server's numeric error for a full disk (errno 28, ENOSPC) surfacing through another error. */
function outOfSpace(error: unknown): boolean {
  const { errno, message } = (error ?? {}) as { errno?: unknown; message?: unknown };
  return (
    typeof errno === "number" &&
    typeof message === "string" &&
    /\b(errcode|error):? 28\b|no space left on device/i.test(message)
  );
}

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

const doubleQuoted = (name: string) => `"${name}"`;
const noColumns = async () => new Set<string>();

export const SQLITE: StoreDialect = {
  name: "sqlite",
  driver: {
    label: "SQLite",
    package: "better-sqlite3",
    install: "better-sqlite3@12",
    shown: "sqlite:…",
  },
  supportsReturning: true,
  bool: (value) => (value ? 1 : 0),
  quoteId: doubleQuoted,
  placeholder: () => "?",
  skipDuplicate: (key) => `on conflict ("${key}") do nothing`,
  columnArrays: false,
  isConstraintViolation: (error) => {
    const code = codeOf(error);
    return typeof code === "string" && code.startsWith("SQLITE_CONSTRAINT");
  },
  isStorageFull: (error) => {
    const code = codeOf(error);
    return (typeof code === "string" && code.startsWith("SQLITE_FULL")) || outOfSpace(error);
  },
  callDeadline: false,
  changeFeed: "data-version",
  schema: {
    identity: () => "integer",
    autoIncrement: true,
    boolean: "integer",
    text: "text",
    tableOptions: (table) => table,
    dropIndexOnTable: false,
    migrationLock: false,
    existingColumns: async (db, table) => {
      const columns = sql<{ name: string }>`select name from pragma_table_info(${table})`;
      const { rows } = await columns.execute(db);
      return new Set(rows.map((row) => row.name));
    },
    transactionalDdl: true,
    attempts: 5,
  },
};

export const POSTGRES: StoreDialect = {
  name: "postgres",
  driver: { label: "PostgreSQL", package: "pg", install: "pg@8", shown: "postgres://…" },
  supportsReturning: true,
  bool: (value) => value,
  quoteId: doubleQuoted,
  placeholder: (position) => `$${position}`,
  skipDuplicate: (key) => `on conflict ("${key}") do nothing`,
  columnArrays: true,
  isConstraintViolation: (error) => {
    const code = codeOf(error);
    return typeof code === "string" && /^23\d{3}$/.test(code);
  },
  isStorageFull: (error) => codeOf(error) === "53100" || outOfSpace(error),
  callDeadline: true,
  changeFeed: "listen",
  schema: {
    identity: (big) => (big ? "bigserial" : "serial"),
    autoIncrement: false,
    boolean: "boolean",
    text: "text",
    tableOptions: (table) => table,
    dropIndexOnTable: false,
    migrationLock: true,
    existingColumns: noColumns,
    transactionalDdl: true,
    // Kysely's introspection of every table fails when any table (even another app's) is
    // dropped while it reads the catalog: such a run is tried again.
    attempts: 3,
  },
};

/** MySQL's errors for a refused row: null, duplicate key, and the foreign key ones. */
const MYSQL_REFUSALS = [1048, 1062, 1216, 1451, 1452];

export const MYSQL: StoreDialect = {
  name: "mysql",
  driver: {
    label: "MySQL/MariaDB",
    package: "mysql2",
    install: "mysql2@3",
    shown: "mysql://…",
  },
  supportsReturning: false,
  bool: (value) => value,
  quoteId: (name) => `\`${name}\``,
  placeholder: () => "?",
  // Any unique key's conflict: the logs have one besides the primary key.
  skipDuplicate: () => "on duplicate key update `id` = `id`",
  columnArrays: false,
  exactly: (column, value) =>
    sql<boolean>`cast(${sql.ref(column)} as binary) = cast(${value} as binary)`,
  isConstraintViolation: (error) => {
    const { errno } = (error ?? {}) as { errno?: unknown };
    return typeof errno === "number" && MYSQL_REFUSALS.includes(errno);
  },
  isStorageFull: (error) => {
    const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown };
    return code === "ER_RECORD_FILE_FULL" || errno === 1114 || outOfSpace(error);
  },
  callDeadline: true,
  changeFeed: null,
  schema: {
    identity: (big) => (big ? "bigint" : "integer"),
    autoIncrement: true,
    boolean: "boolean",
    text: sql`longtext`,
    // Whatever the database's defaults: utf8mb4, so that any character fits, and a binary
    // collation, so that `=` and `like` match exactly (case and accents count) as on the others.
    tableOptions: (table) =>
      table.modifyEnd(sql`default character set utf8mb4 collate utf8mb4_bin`) as typeof table,
    dropIndexOnTable: true,
    migrationLock: true,
    existingColumns: noColumns,
    // Each schema statement commits on its own: a failed run keeps what it applied.
    transactionalDdl: false,
    attempts: 3,
  },
};

export const DIALECTS: Readonly<Record<SqlFamily, StoreDialect>> = {
  sqlite: SQLITE,
  postgres: POSTGRES,
  mysql: MYSQL,
};

/** The dialect of a Kysely instance an app handed in, told by its adapter's class name. */
export function dialectOf(db: Kysely<any>): StoreDialect {
  const name = db.getExecutor().adapter.constructor.name.toLowerCase();
  if (name.includes("mysql")) return MYSQL;
  if (name.includes("sqlite") || name.includes("d1") || name.includes("libsql")) return SQLITE;
  return POSTGRES;
}
