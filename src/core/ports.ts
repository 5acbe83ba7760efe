/**
 * What the core asks of the world outside it, each port owned here so that nothing in the core
 * depends on who implements it: the request and session each adapter translates, the storage
 * roles a store implements (split by who uses them), the self-service backend its pages are
 * given, and the renderer of the built-in confirmation page.
 *
 * Atomicity is part of each storage method's contract, stated on it:
 * - *one statement*: a single statement, so concurrent calls never see half of it;
 * - *one transaction*: several statements that commit together or not at all;
 * - *read-only*: changes nothing (one query unless said otherwise).
 * No method reads and then writes what another request may be writing.
 */
import type { DatabaseTarget, FreshLinkPageRenderer, ResolvedConfig } from "./config.js";
import type { ResolvedSharingThresholds, SharingCounts } from "./sharing.js";
import type { ThrottleBudgetName, ThrottleStore } from "./throttle.js";
import type { Visitor, VisitorLog, VisitorRecord } from "./visitor.js";

// ---------------------------------------------------------------------------------------------
// The request side: what each adapter fills in from its framework.

/**
 * Whether a user is signed in (then the cookie lifetime of a pass does not apply). Read only when
 * a token needs it: most requests carry none, and the check reads the framework's request.
 */
export interface RequestContext {
  readonly authenticated: boolean;
}

/** What the core needs to know of a request; each adapter fills it from its framework. */
export interface VisitRequest {
  method: string;
  /** The URL as requested: path and query string. */
  url: string;
  userAgent: string | null;
  referer: string | null;
  /** The client address, as the framework resolves it (proxies trusted as the app configured). */
  ip: string | null;
  /** `Origin`, `Sec-Fetch-Site` and `Host`: where a confirming POST came from. */
  origin?: string | null;
  secFetchSite?: string | null;
  host?: string | null;
}

/** The session as the core uses it; each adapter implements it over its framework's session. */
export interface SessionPort {
  /** The session's id, recorded in visit logs; `null` when the session has none. */
  readonly id: string | null;
  get(key: string): unknown;
  set(key: string, value: string): void;
  delete(key: string): void;
  /** Makes the session cookie live `seconds` from now; `0` makes it end with the browser. */
  setCookieLifetime(seconds: number): void;
  /** Gives the session a new id, keeping its data; the old id must grant nothing afterwards. */
  regenerate(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Storage: the records the roles exchange.

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
  /** Only the passes promoted to this user id (`passes.promote`). */
  promotedTo?: string;
  /** `true`: promoted to an account; `false`: not promoted. */
  promoted?: boolean;
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

/**
 * Which visit logs `truncateLogs` deletes: those older than `before` (when given) and, when `keep`
 * is given, only those beyond the newest `keep` of their pass. At least one is given.
 */
export interface LogTruncation {
  /** Logs with a `timestamp` before this instant. */
  before?: Date;
  /** Each pass keeps its newest `keep` logs (by `timestamp`, then `id`); 0 keeps none. */
  keep?: number;
}

/**
 * What `PassStore#promote` did: `"promoted"` (it set the user id now), `"unchanged"` (the pass
 * was already promoted to this very user id) or `"conflict"` (it was promoted to another one,
 * which `record.promotedTo` holds); `record` is the pass as stored after the call.
 */
export interface PromotionResult {
  outcome: "promoted" | "unchanged" | "conflict";
  record: VisitorRecord;
}

/**
 * Which visit logs `searchLogs` returns, across every pass: each filter given narrows it. Newest
 * first (by `timestamp`, then `id`), at most `limit`, strictly older than `before` when given
 * (keyset paging: the last row of a page is where the next starts).
 */
export interface LogSearch {
  /** Logs of passes of this scope (exact). */
  scope?: string;
  /** Logs of the pass with this `id`. */
  visitorId?: number;
  /** Logs of the passes with this email (exact, as stored). */
  email?: string;
  /** Logs with `from <= timestamp`. */
  from?: Date;
  /** Logs with `timestamp < to`. */
  to?: Date;
  /** Logs recorded with this HTTP status. */
  statusCode?: number;
  /** Logs older than this one, in the order of the list: its `timestamp` and `id`. */
  before?: { timestamp: Date; id: number };
  limit: number;
}

/** A visit log as `searchLogs` returns it: the log, with the email and scope of its pass. */
export interface LogEntry extends VisitorLog {
  email: string;
  scope: string;
}

/** How a purge (or a truncation of the logs) goes through its batches. */
export interface PurgeBatches {
  batchSize?: number;
  budgetMs?: number;
  onBatch?: (purged: number) => void;
  /** How the purge waits between batches (tests observe it); `ms` is how long to wait. */
  pause?: (ms: number) => Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Storage: the roles.

/** The passes themselves: what the pass service and the request flow read and write. */
export interface PassStore {
  /** Stores a new pass and returns it with its `id`. One statement. */
  insert(visitor: NewVisitor): Promise<VisitorRecord>;
  /** The pass stored under `uuid` (a token, or its digest), or `null`. Read-only. */
  findByUuid(uuid: string): Promise<VisitorRecord | null>;
  /** The pass with this `id` (a number that admits nobody: for admin pages), or `null`. Read-only. */
  findById(id: number): Promise<VisitorRecord | null>;
  /**
   * Applies `changes` to the pass with `uuid`; the updated pass, or `null` when there is none.
   * One statement (or one transaction: the update and the read-back of its row, where the
   * database returns no rows from an update).
   */
  update(uuid: string, changes: VisitorChanges): Promise<VisitorRecord | null>;
  /**
   * Spends one use of the pass, atomically: a single conditional update that succeeds only while
   * the pass is active, has an email (a self-service request whose form was never completed has
   * none, and never admits), is unexpired at `now` and under its `maxUses`. The race-safe
   * primitive behind use limits: of N concurrent calls on a one-use pass exactly one gets the
   * pass back. One statement (or one transaction, as for `update`).
   */
  admit(uuid: string, now: Date): Promise<VisitorRecord | null>;
  /**
   * Activates an inactive pass under a new token, atomically: one conditional update that only
   * succeeds while the pass with `uuid` is still inactive, so of concurrent claims one wins.
   * The claimed pass, or `null` when the pass is gone or already active. One statement (or one
   * transaction, as for `update`).
   */
  claim(uuid: string, newUuid: string, changes: VisitorChanges): Promise<VisitorRecord | null>;
  /**
   * Gives the pass with `uuid` a new token, `newUuid`, with its link valid until `expiresAt` and
   * its uses back to 0, atomically: one conditional update that succeeds only while that pass is
   * active, has an email, and its link can no longer admit at `now` (expired, or used as many
   * times as `maxUses` allows). Of concurrent renewals one wins; the old token names nothing
   * afterwards. The renewed pass, or `null`. One statement (or one transaction, as for
   * `update`). Optional: a store without it cannot serve fresh links (`freshLinks`).
   */
  renew?(
    uuid: string,
    newUuid: string,
    now: Date,
    expiresAt: Date | null,
  ): Promise<VisitorRecord | null>;
  /** The pass claimed from the self-service form that had token `uuid`, or `null`. Read-only. */
  findByFormUuid(uuid: string): Promise<VisitorRecord | null>;
  /** The passes matching `filter`, newest first. Read-only. */
  list(filter: VisitorFilter): Promise<VisitorRecord[]>;
  /** How many passes match `filter`. Read-only. */
  count(filter: VisitorCountFilter): Promise<number>;
  /**
   * Promotes the pass with `uuid` to the account `userId`, at `at`: sets `promotedTo` and
   * `promotedAt`, turns it off (`isActive` false) and sets `lastUpdatedAt`, in one conditional
   * statement that succeeds only while the pass is not promoted, so of concurrent promotions one
   * wins and a pass is promoted once. When it matched nothing, the pass is read back (read-only)
   * to say why: promoted to `userId` already (`"unchanged"`, nothing written) or to another id
   * (`"conflict"`, nothing written). `null` when there is no such pass. Once it resolves, every
   * connection's `changedElsewhere` reports it, as for `update`. One statement (or one
   * transaction, as for `update`), then at most one read.
   */
  promote(uuid: string, userId: string, at: Date): Promise<PromotionResult | null>;
  /**
   * Deletes at most `limit` self-service passes still pending (never claimed, never used) whose
   * link expired before `before`; returns the count. One statement.
   */
  deleteExpiredPending(before: Date, limit: number): Promise<number>;
  /**
   * Deletes passes that expired before `before`, with their logs, in batches of at most
   * `batchSize`, smaller while a batch takes longer than `budgetMs`, resting between two batches
   * as long as the first took; returns the count. One transaction per batch (a pass goes with
   * its logs, or stays with them); the purge as a whole is not one transaction.
   */
  purge(before: Date, options?: PurgeBatches): Promise<number>;
}

/** The visit logs: written by the request path (in batches), read by the pass service. */
export interface VisitLogStore {
  /**
   * Writes several visit logs, in one statement when it can. Rows the database refuses (their pass
   * was deleted meanwhile) are skipped, and their number returned; an unreachable database throws
   * and writes nothing. One statement; only when the database refuses a row, one statement per
   * row (each log is written whole or not at all).
   */
  insertLogs(logs: readonly NewVisitorLog[]): Promise<number>;
  /** The logs of one pass, newest first. Read-only. */
  logs(visitorId: number): Promise<VisitorLog[]>;
  /**
   * The visit logs of every pass that `search` selects, newest first, at most `search.limit`,
   * each with its pass's email and scope. Read-only, one query: served by the logs' timestamp
   * index (or the per-pass index when a pass is named), so a page costs about `limit` rows
   * however many logs there are.
   */
  searchLogs(search: LogSearch): Promise<LogEntry[]>;
  /**
   * Deletes the visit logs `which` names, never a pass, in batches as `purge` makes them (at most
   * `batchSize` logs, smaller while a batch takes longer than `budgetMs`, resting between two);
   * returns the count. One statement per batch; the truncation as a whole is not one
   * transaction. Logs written meanwhile are newer than any it deletes for `keep`.
   */
  truncateLogs(which: LogTruncation, options?: PurgeBatches): Promise<number>;
}

/** The analytics over the visit logs: reports and admin pages. Every method is read-only. */
export interface VisitorAnalytics {
  /** Visits of passes by id, in one query; ids without visits map to 0. Read-only. */
  visitCounts(visitorIds: readonly number[]): Promise<Map<number, number>>;
  /** The sharing counts of one pass's visits (zeros and nulls when it has none). Read-only. */
  sharingCounts(visitorId: number): Promise<SharingCounts>;
  /**
   * The passes with visits (since `since`), with their sharing counts: flagged first, then most
   * sessions, then the latest last visit. Read-only, one query.
   */
  sharingReport(query: SharingReportQuery): Promise<SharingReportRow[]>;
  /**
   * Visits per UTC day (epoch ms of its midnight → count) with `from <= timestamp < to`, of one
   * pass or of all; days without visits are left out. Read-only, one query.
   */
  visitsPerDay(range: { visitorId?: number; from: Date; to: Date }): Promise<Map<number, number>>;
}

/**
 * How a store tells the core that passes changed behind its back, so that the core may cache
 * pass lookups. Both members are optional: a store without them gets no cache.
 */
export interface PassChangeFeed {
  /**
   * Whether passes may have been changed by another connection since the last call, answered
   * synchronously and cheaply (no query on the request path). An exact store may answer from a
   * check made a moment ago, if its own `update`, `claim` and `purge` resolve only once every
   * connection's answer reports them (`admit` need not: the use it spends is checked by the
   * database, never by the cache). Read-only.
   */
  changedElsewhere?(): boolean;
  /**
   * With `changedElsewhere`: how long (ms) a cached pass may be served at most, for a store
   * whose answer comes by notification and could be missed; absent where it is exact.
   */
  readonly cacheMaxAge?: number;
}

/** Opening and closing the storage. */
export interface StoreLifecycle {
  /**
   * Creates or updates the tables; safe to call from several processes at once. One transaction
   * where the database has transactional schema changes (SQLite, PostgreSQL); on MySQL each
   * schema statement commits on its own. Resolves to how many migrations this call applied (0
   * when the tables were already up to date).
   */
  migrate(): Promise<number>;
  /** Releases what the store opened (never a connection the application owns). */
  close(): Promise<void>;
  /**
   * Counts of the throttles kept in this store's database (`throttle: { store: "database" }`),
   * shared by every process using it; each count is atomic. Optional: a store without it cannot
   * be asked for that option (a configuration error). The store closes what it opens for them.
   */
  throttleStore?(): ThrottleStore;
}

/**
 * Everything the core asks of storage: every role, implemented by one object. A store can be
 * handed to `createVisitorPass` through its `store` option, in place of `database`.
 */
export type VisitorStore = PassStore &
  VisitLogStore &
  VisitorAnalytics &
  PassChangeFeed &
  StoreLifecycle;

/** The methods a store must have, to tell a store from something else when one is handed in. */
export const VISITOR_STORE_METHODS = [
  "insert",
  "findByUuid",
  "findById",
  "update",
  "admit",
  "claim",
  "promote",
  "findByFormUuid",
  "list",
  "count",
  "deleteExpiredPending",
  "purge",
  "insertLogs",
  "logs",
  "searchLogs",
  "truncateLogs",
  "visitCounts",
  "sharingCounts",
  "sharingReport",
  "visitsPerDay",
  "migrate",
  "close",
] as const satisfies readonly (keyof VisitorStore)[];

// ---------------------------------------------------------------------------------------------
// Pages and the self-service feature.

export interface ConfirmPageContext {
  visitor: Visitor;
  /** Where the page's form must POST (the same URL, marked as confirmed). */
  action: string;
}

/** Renders a confirmation page: the whole HTML document. */
export type ConfirmPageRenderer = (context: ConfirmPageContext) => string;

/** The fields the self-service form fills into a pending pass. */
export interface SelfServiceFields {
  firstName: string;
  lastName: string;
  email: string;
}

/** What the self-service pages need from the pass service (implemented by `VisitorPass`). */
export interface SelfServiceBackend {
  readonly config: ResolvedConfig;
  find(uuid: string): Promise<Visitor | null>;
  /**
   * Fills in and activates a pending pass under a new token; `null` if another claim won.
   * `extra` (the form's extra fields) joins its `context`, never replacing a key already there.
   */
  claim(
    pending: Visitor,
    fields: SelfServiceFields,
    extra?: Readonly<Record<string, unknown>>,
  ): Promise<Visitor | null>;
  /** Tells the app (which emails the link), without waiting for it. */
  created(visitor: Visitor): void;
  /**
   * Sends the claimed pass its link through `sendLink` (reason `"selfService"`), when there is
   * one, after the response and without waiting for it.
   */
  sendLink(visitor: Visitor): void;
  /** Counts one attempt from `ip` against a budget: `null` when allowed, else seconds to wait. */
  throttle(budget: ThrottleBudgetName, ip: string | null): Promise<number | null>;
}

/**
 * What the composition root hands the core: the parts that live outside it. The core builds
 * none of them itself.
 */
export interface VisitorPassParts {
  /** Opens the store on `database`; called once, only when no `store` option was given. */
  openStore(database: DatabaseTarget, config: ResolvedConfig): VisitorStore;
  /** The built-in confirmation page, used unless the `confirmPage` option replaces it. */
  confirmPage: ConfirmPageRenderer;
  /** The HTML page of a 429 (too many requests from this network): wait `retryAfter` seconds. */
  throttledPage(retryAfter: number): string;
  /** The built-in fresh-link page, used unless `freshLinks.page` replaces it. */
  freshLinkPage: FreshLinkPageRenderer;
}
