import Database from "better-sqlite3";
import { createVisitorPass } from "../src/index.js";

export interface SeedOptions {
  passes: number;
  logs: number;
  /** Milliseconds since the epoch for `expires_at`: in the past makes them purgeable. */
  expiresAt: number | null;
}

/**
 * Fills a SQLite file with `passes` passes and `logs` visit logs spread over them, in SQL (a
 * recursive CTE per table inside one transaction), so that millions of rows take seconds.
 */
export async function seedSqlite(filename: string, options: SeedOptions): Promise<void> {
  const passes = createVisitorPass({ database: `sqlite:${filename}`, env: {} });
  await passes.migrate();
  await passes.close();
  const db = new Database(filename);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const now = Date.now();
  const uuid = `lower(substr(h,1,8)||'-'||substr(h,9,4)||'-4'||substr(h,14,3)||'-a'||substr(h,18,3)||'-'||substr(h,21,12))`;
  db.transaction(() => {
    db.prepare(
      `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
       INSERT INTO visitor_pass_visitors (uuid, first_name, last_name, email, scope, context,
         created_at, last_updated_at, expires_at, is_active, session_expiry, max_uses, uses)
       SELECT ${uuid}, 'Seed', 'Visitor ' || n, 'seed' || n || '@example.org', 'REFERENCE_REQUEST',
         NULL, ? - n, ? - n, ?, 1, 0, NULL, 1
       FROM (SELECT n, hex(randomblob(16)) AS h FROM seq)`,
    ).run(options.passes, now, now, options.expiresAt);
    if (options.logs > 0) {
      db.prepare(
        `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
         INSERT INTO visitor_pass_visitor_logs (visitor_id, session_key, http_method, request_uri,
           query_string, http_user_agent, http_referer, remote_addr, status_code, timestamp)
         SELECT (n % ?) + 1, 'seed-session-' || (n % 50000), 'GET', '/reference', '',
           'Mozilla/5.0 (seed)', NULL, '203.0.113.' || (n % 250), 200, ? - n
         FROM seq`,
      ).run(options.logs, options.passes, now);
    }
  })();
  db.close();
}
