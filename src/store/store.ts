import type { VisitorLog, VisitorRecord } from "../core/visitor.js";

export type NewVisitor = Omit<VisitorRecord, "id">;
export type NewVisitorLog = Omit<VisitorLog, "id">;

export type VisitorChanges = Partial<
  Pick<
    VisitorRecord,
    | "firstName"
    | "lastName"
    | "email"
    | "context"
    | "expiresAt"
    | "isActive"
    | "sessionExpiry"
    | "maxUses"
    | "lastUpdatedAt"
  >
>;

export interface VisitorFilter {
  scope?: string;
  /** Case-insensitive substring of first name, last name, email or scope. */
  search?: string;
  active?: boolean;
  limit: number;
  offset: number;
}

/**
 * Everything the core asks of storage. Each method is one statement or one transaction; none
 * reads and then writes what another request may be writing.
 */
export interface VisitorStore {
  /** Creates or updates the tables; safe to call from several processes at once. */
  migrate(): Promise<void>;
  insert(visitor: NewVisitor): Promise<VisitorRecord>;
  findByUuid(uuid: string): Promise<VisitorRecord | null>;
  /** Applies `changes` to the pass with `uuid`; the updated pass, or `null` when there is none. */
  update(uuid: string, changes: VisitorChanges): Promise<VisitorRecord | null>;
  /**
   * Spends one use of the pass, atomically: a single conditional update that succeeds only while
   * the pass is active, unexpired at `now` and under its `maxUses`. The race-safe primitive behind
   * use limits: of N concurrent calls on a one-use pass exactly one gets the pass back.
   */
  admit(uuid: string, now: Date): Promise<VisitorRecord | null>;
  /**
   * Activates an inactive pass under a new token, atomically: one conditional update that only
   * succeeds while the pass with `uuid` is still inactive, so of concurrent claims one wins.
   * The claimed pass, or `null` when the pass is gone or already active.
   */
  claim(uuid: string, newUuid: string, changes: VisitorChanges): Promise<VisitorRecord | null>;
  list(filter: VisitorFilter): Promise<VisitorRecord[]>;
  insertLog(log: NewVisitorLog): Promise<void>;
  /** The logs of one pass, newest first. */
  logs(visitorId: number): Promise<VisitorLog[]>;
  /** Deletes passes that expired before `before`, with their logs, in batches; returns the count. */
  purge(
    before: Date,
    options?: { batchSize?: number; onBatch?: (purged: number) => void },
  ): Promise<number>;
  close(): Promise<void>;
}
