import type { Generated, Kysely } from "kysely";
import type { StoreDialect } from "./dialects.js";

/** Rows as the database holds them: timestamps in epoch milliseconds, context as JSON text. */
export interface VisitorRow {
  id: Generated<number>;
  uuid: string;
  first_name: string;
  last_name: string;
  email: string;
  scope: string;
  context: string | null;
  created_at: number;
  last_updated_at: number;
  expires_at: number | null;
  is_active: number | boolean;
  session_expiry: number | null;
  max_uses: number | null;
  uses: Generated<number>;
  form_uuid: Generated<string | null>;
  /** Added by `0007_pass_promotion`: the user id the pass was promoted to, NULL while it was not. */
  promoted_to: Generated<string | null>;
  /** Added by `0007_pass_promotion`: when it was promoted (epoch ms), NULL while it was not. */
  promoted_at: Generated<number | null>;
  /** Added by `0008_fresh_links_opt_in`: the pass offers fresh links whatever its scope. */
  fresh_links: Generated<number | boolean>;
}

export interface VisitorLogRow {
  id: Generated<number>;
  visitor_id: number;
  session_key: string | null;
  http_method: string;
  request_uri: string;
  query_string: string;
  http_user_agent: string | null;
  http_referer: string | null;
  remote_addr: string | null;
  status_code: number | null;
  timestamp: number;
  /** Added by `0002_visit_log_signals`; NULL in logs written before it. */
  client_network: string | null;
  /** Added by `0002_visit_log_signals`; NULL in logs written before it. */
  browser_family: string | null;
  /** Added by `0006_visit_log_idempotency_key`, unique; NULL in logs written before it. */
  idempotency_key: string | null;
}

/** Table names are prefixed at run time; these keys are the unprefixed names. */
export interface Database {
  visitors: VisitorRow;
  visitor_logs: VisitorLogRow;
}

export interface TableNames {
  visitors: "visitors";
  logs: "visitor_logs";
  migrations: string;
  migrationLock: string;
}

/**
 * Table names carrying the configured prefix. They are typed as the schema's unprefixed names so
 * queries stay checked; at run time they are the prefixed ones.
 */
export function tableNames(prefix: string): TableNames {
  return {
    visitors: `${prefix}visitors` as "visitors",
    logs: `${prefix}visitor_logs` as "visitor_logs",
    migrations: `${prefix}migrations`,
    migrationLock: `${prefix}migrations_lock`,
  };
}

/** What each part of the store works on: the connection, what its database is, the tables. */
export interface SqlTables {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  readonly t: TableNames;
}

/**
 * Filter text no stored pass can hold: PostgreSQL refuses NUL in text outright (the query would
 * fail), so it matches nothing on every database alike.
 */
export function matchesNothing(text: string | undefined): boolean {
  return text?.includes("\u0000") ?? false;
}
