import type { ResolvedSharingThresholds, SharingCounts } from "../core/sharing.js";
import type { VisitorLog, VisitorRecord } from "../core/visitor.js";

export type NewVisitor = Omit<VisitorRecord, "id">;
/**
 * A visit log to write: the `VisitorLog` fields, plus the sharing signals computed from them
 * (stored, never read back as part of a `VisitorLog`); left out, they are stored as NULL.
 */
export type NewVisitorLog = Omit<VisitorLog, "id"> & {
  /** The client network (`networkOf` the logged address), NULL when no address is kept. */
  clientNetwork?: string | null;
  /** The browser family of the user agent (see `browserFamily`). */
  browserFamily?: string | null;
  /**
   * A random id given to the visit when it is recorded: a batch written again after its reply
   * was lost (the connection dropped after the commit) skips the visits already stored. Left
   * out, the log is stored with none, and nothing stops it being written twice.
   */
  idempotencyKey?: string | null;
};

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
  /** `true`: active and unexpired at `now`; `false`: inactive or expired at `now`. */
  valid?: boolean;
  /** The instant `valid` is judged at. @default new Date() */
  now?: Date;
  limit: number;
  offset: number;
}

/** A `VisitorFilter` without paging, for counting. */
export type VisitorCountFilter = Omit<VisitorFilter, "limit" | "offset">;

/** What a sharing report asks for: one query over the logs, grouped by pass. */
export interface SharingReportQuery {
  /** Only visits at or after this instant. */
  since?: Date;
  scope?: string;
  /** Only passes with a count above its threshold. */
  flaggedOnly: boolean;
  thresholds: ResolvedSharingThresholds;
  limit: number;
  offset: number;
}

/** One pass of a sharing report: who it is, and the counts of its visits. */
export interface SharingReportRow extends SharingCounts {
  visitorId: number;
  uuid: string;
  email: string;
  scope: string;
}

/** How a purge goes through its batches. */
export interface PurgeBatches {
  batchSize?: number;
  budgetMs?: number;
  onBatch?: (purged: number) => void;
  /** How the purge waits between batches (tests observe it); `ms` is how long to wait. */
  pause?: (ms: number) => Promise<void>;
}

/**
 * Everything the core asks of storage. Each method is one statement or one transaction; none
 * reads and then writes what another request may be writing.
 */
export interface VisitorStore {
  /**
   * Creates or updates the tables; safe to call from several processes at once. Resolves to how
   * many migrations this call applied (0 when the tables were already up to date).
   */
  migrate(): Promise<number>;
  insert(visitor: NewVisitor): Promise<VisitorRecord>;
  findByUuid(uuid: string): Promise<VisitorRecord | null>;
  /** The pass with this `id` (a number that admits nobody: for admin pages), or `null`. */
  findById(id: number): Promise<VisitorRecord | null>;
  /** Applies `changes` to the pass with `uuid`; the updated pass, or `null` when there is none. */
  update(uuid: string, changes: VisitorChanges): Promise<VisitorRecord | null>;
  /**
   * Spends one use of the pass, atomically: a single conditional update that succeeds only while
   * the pass is active, has an email (a self-service request whose form was never completed has
   * none, and never admits), is unexpired at `now` and under its `maxUses`. The race-safe
   * primitive behind use limits: of N concurrent calls on a one-use pass exactly one gets the
   * pass back.
   */
  admit(uuid: string, now: Date): Promise<VisitorRecord | null>;
  /**
   * Activates an inactive pass under a new token, atomically: one conditional update that only
   * succeeds while the pass with `uuid` is still inactive, so of concurrent claims one wins.
   * The claimed pass, or `null` when the pass is gone or already active.
   */
  claim(uuid: string, newUuid: string, changes: VisitorChanges): Promise<VisitorRecord | null>;
  /** The pass claimed from the self-service form that had token `uuid`, or `null`. */
  findByFormUuid(uuid: string): Promise<VisitorRecord | null>;
  list(filter: VisitorFilter): Promise<VisitorRecord[]>;
  /**
   * Writes several visit logs, in one statement when it can. Rows the database refuses (their pass
   * was deleted meanwhile) are skipped, and their number returned; an unreachable database throws
   * and writes nothing.
   */
  insertLogs(logs: readonly NewVisitorLog[]): Promise<number>;
  /** The logs of one pass, newest first. */
  logs(visitorId: number): Promise<VisitorLog[]>;
  /** How many passes match `filter`. */
  count(filter: VisitorCountFilter): Promise<number>;
  /** Visits of passes by id, in one query; ids without visits map to 0. */
  visitCounts(visitorIds: readonly number[]): Promise<Map<number, number>>;
  /** The sharing counts of one pass's visits (zeros and nulls when it has none). */
  sharingCounts(visitorId: number): Promise<SharingCounts>;
  /**
   * The passes with visits (since `since`), with their sharing counts: flagged first, then most
   * sessions, then the latest last visit; one query.
   */
  sharingReport(query: SharingReportQuery): Promise<SharingReportRow[]>;
  /**
   * Visits per UTC day (epoch ms of its midnight → count) with `from <= timestamp < to`, of one
   * pass or of all; days without visits are left out.
   */
  visitsPerDay(range: { visitorId?: number; from: Date; to: Date }): Promise<Map<number, number>>;
  /**
   * Deletes passes that expired before `before`, with their logs, in batches of at most
   * `batchSize`, smaller while a batch takes longer than `budgetMs`, resting between two batches
   * as long as the first took; returns the count.
   */
  purge(before: Date, options?: PurgeBatches): Promise<number>;
  /**
   * Deletes at most `limit` self-service passes still pending (never claimed, never used) whose
   * link expired before `before`, in one statement; returns the count.
   */
  deleteExpiredPending(before: Date, limit: number): Promise<number>;
  close(): Promise<void>;
  /**
   * Optional: whether passes may have been changed by another connection since the last call,
   * answered synchronously and cheaply. Stores that can tell let the core cache pass lookups;
   * stores without it get no cache. An exact store may answer from a check made a moment ago,
   * if its own `update`, `claim` and `purge` resolve only once every connection's answer reports
   * them (`admit` need not: the use it spends is checked by the database, never by the cache).
   */
  changedElsewhere?(): boolean;
  /**
   * Optional, with `changedElsewhere`: how long (ms) a cached pass may be served at most, for a
   * store whose answer comes by notification and could be missed; absent where it is exact.
   */
  readonly cacheMaxAge?: number;
}
