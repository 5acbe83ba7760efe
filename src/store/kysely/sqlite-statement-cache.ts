import type { SqliteDatabase, SqliteStatement } from "kysely";

/**
 * Most statements kept prepared per connection. The store's queries have few distinct texts
 * (lists of varying length add some); beyond, the least recently used is let go.
 */
const MAX_STATEMENTS = 256;

/**
 * The connection Kysely is given on SQLite, keeping each statement it prepares for the next
 * query of the same text: Kysely's SQLite driver prepares every query afresh, and on a landing
 * (one lookup and one update) preparing was the largest single cost (bench/README.md, "Prepared
 * statements kept on SQLite"). A statement still running (an open `iterate()`, as a streamed
 * query holds it) is never handed out again: a new one is prepared for that query.
 */
export function keepingStatements(database: SqliteDatabase): SqliteDatabase {
  const kept = new Map<string, SqliteStatement>();
  return {
    close() {
      kept.clear();
      database.close();
    },
    prepare(sql) {
      const statement = kept.get(sql);
      if (statement !== undefined) {
        // Most recently used last, so that the first is the one to let go.
        kept.delete(sql);
        kept.set(sql, statement);
        if (!(statement as { busy?: boolean }).busy) return statement;
        return database.prepare(sql);
      }
      const prepared = database.prepare(sql);
      if (kept.size >= MAX_STATEMENTS) kept.delete(kept.keys().next().value as string);
      kept.set(sql, prepared);
      return prepared;
    },
  };
}
