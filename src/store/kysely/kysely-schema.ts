import type { Generated } from "kysely";

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
