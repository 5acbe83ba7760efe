import type { Kysely } from "kysely";
import { type DatabaseTarget, DEFAULT_STORE_TIMEOUT } from "../../core/config.js";
import type { SharingCounts } from "../../core/sharing.js";
import type { ThrottleStore } from "../../core/throttle.js";
import type { VisitorLog, VisitorRecord } from "../../core/visitor.js";
import type {
  LogEntry,
  LogSearch,
  LogTruncation,
  NewVisitor,
  NewVisitorLog,
  PassChangeFeed,
  PassStore,
  PromotionResult,
  PurgeBatches,
  SharingReportQuery,
  SharingReportRow,
  StoreLifecycle,
  VisitLogStore,
  VisitorAnalytics,
  VisitorChanges,
  VisitorCountFilter,
  VisitorFilter,
} from "../store.js";
import { KyselyAnalytics } from "./analytics.js";
import { openChangeFeed } from "./change-feed.js";
import { connect } from "./connect.js";
import type { StoreDialect } from "./dialects.js";
import { migrateToLatest } from "./migrations.js";
import { KyselyPassStore } from "./pass-store.js";
import type { PgChangeListener } from "./pg-listen.js";
import { type Database, type TableNames, tableNames } from "./schema.js";
import { type SqlThrottleStore, sqlThrottleStore } from "./sql-throttle.js";
import { SqliteFastPath } from "./sqlite-fast-path.js";
import { boundedCalls } from "./store-deadline.js";
import { KyselyVisitLogStore } from "./visit-log-store.js";

/**
 * Every storage role of the core (`VisitorStore`) on Kysely: SQLite, PostgreSQL and
 * MySQL/MariaDB with the same rows. Each role is a part of its own (`pass-store.ts`,
 * `visit-log-store.ts`, `analytics.ts`, `change-feed.ts`, `migrations.ts`) on one connection
 * (`connect.ts`); what differs between the databases is their `StoreDialect` (`dialects.ts`).
 */
export class KyselyStore
  implements PassStore, VisitLogStore, VisitorAnalytics, PassChangeFeed, StoreLifecycle
{
  readonly db: Kysely<Database>;
  /** What differs on this database. */
  readonly dialect: StoreDialect;
  /** The analytics queries, on the same tables. */
  readonly analytics: KyselyAnalytics;

  readonly changedElsewhere?: () => boolean;
  readonly cacheMaxAge?: number;
  readonly #owned: boolean;
  readonly #t: TableNames;
  readonly #listener: PgChangeListener | null;
  readonly #passes: KyselyPassStore;
  readonly #visitLogs: KyselyVisitLogStore;
  readonly #target: DatabaseTarget;
  readonly #storeTimeout: number;
  readonly #tablePrefix: string;
  #throttles: SqlThrottleStore | null = null;

  /**
   * `listen`: on a PostgreSQL URL, answer `changedElsewhere` from notifications (see
   * `PgChangeListener`), so that the pass cache can be used there too. `storeTimeout`: see the
   * option of `createVisitorPass`: on SQLite how long a statement waits for another connection's
   * lock; on PostgreSQL and MySQL how long a call that looks up, admits, creates or claims a
   * pass, or writes visits, may wait for the database before it fails (`StoreTimeoutError`), and
   * how long a connection may take to open.
   */
  constructor(
    target: DatabaseTarget,
    tablePrefix: string,
    options: { listen?: boolean; storeTimeout?: number } = {},
  ) {
    const storeTimeout = options.storeTimeout ?? DEFAULT_STORE_TIMEOUT;
    this.#target = target;
    this.#storeTimeout = storeTimeout;
    this.#tablePrefix = tablePrefix;
    const connection = connect(target, { storeTimeout });
    this.db = connection.db;
    this.dialect = connection.dialect;
    this.#owned = connection.owned;
    this.#t = tableNames(tablePrefix);
    const tables = { db: this.db, dialect: this.dialect, t: this.#t };
    const sqlite = connection.sqlite
      ? new SqliteFastPath(connection.sqlite, this.#t.logs, {
          shared: connection.sqliteShared,
          storeTimeout,
        })
      : null;
    const bounded = boundedCalls(this.dialect, storeTimeout);
    this.#passes = new KyselyPassStore(tables, bounded, sqlite);
    this.#visitLogs = new KyselyVisitLogStore(tables, bounded, sqlite);
    this.analytics = new KyselyAnalytics(tables);
    // Listening needs a URL to open its own connection on: not a Kysely instance handed in.
    const listenUrl = options.listen && "url" in target ? target.url : null;
    const feed = openChangeFeed(this.dialect, this.#t, { sqlite, listenUrl });
    this.#listener = feed.listener;
    if (feed.changedElsewhere) this.changedElsewhere = feed.changedElsewhere;
    if (feed.cacheMaxAge !== undefined) this.cacheMaxAge = feed.cacheMaxAge;
  }

  migrate(): Promise<number> {
    return migrateToLatest(this.db, this.dialect, this.#t, { listen: this.#listener !== null });
  }

  /** The throttle counts in this database (`sql-throttle.ts`): one store, made on first ask. */
  throttleStore(): ThrottleStore {
    this.#throttles ??= sqlThrottleStore(this.#target, this.#tablePrefix, this.#storeTimeout);
    return this.#throttles;
  }

  async close(): Promise<void> {
    await this.#throttles?.close();
    await this.#listener?.close();
    if (this.#owned) await this.db.destroy();
  }

  // PassStore

  insert(visitor: NewVisitor): Promise<VisitorRecord> {
    return this.#passes.insert(visitor);
  }

  findByUuid(uuid: string): Promise<VisitorRecord | null> {
    return this.#passes.findByUuid(uuid);
  }

  findById(id: number): Promise<VisitorRecord | null> {
    return this.#passes.findById(id);
  }

  update(uuid: string, changes: VisitorChanges): Promise<VisitorRecord | null> {
    return this.#passes.update(uuid, changes);
  }

  admit(uuid: string, now: Date): Promise<VisitorRecord | null> {
    return this.#passes.admit(uuid, now);
  }

  renew(
    uuid: string,
    newUuid: string,
    now: Date,
    expiresAt: Date | null,
  ): Promise<VisitorRecord | null> {
    return this.#passes.renew(uuid, newUuid, now, expiresAt);
  }

  claim(uuid: string, newUuid: string, changes: VisitorChanges): Promise<VisitorRecord | null> {
    return this.#passes.claim(uuid, newUuid, changes);
  }

  promote(uuid: string, userId: string, at: Date): Promise<PromotionResult | null> {
    return this.#passes.promote(uuid, userId, at);
  }

  findByFormUuid(uuid: string): Promise<VisitorRecord | null> {
    return this.#passes.findByFormUuid(uuid);
  }

  list(filter: VisitorFilter): Promise<VisitorRecord[]> {
    return this.#passes.list(filter);
  }

  count(filter: VisitorCountFilter): Promise<number> {
    return this.#passes.count(filter);
  }

  deleteExpiredPending(before: Date, limit: number): Promise<number> {
    return this.#passes.deleteExpiredPending(before, limit);
  }

  purge(before: Date, options?: PurgeBatches): Promise<number> {
    return this.#passes.purge(before, options);
  }

  // VisitLogStore

  insertLogs(logs: readonly NewVisitorLog[]): Promise<number> {
    return this.#visitLogs.insertLogs(logs);
  }

  truncateLogs(which: LogTruncation, options?: PurgeBatches): Promise<number> {
    return this.#visitLogs.truncateLogs(which, options);
  }

  logs(visitorId: number): Promise<VisitorLog[]> {
    return this.#visitLogs.logs(visitorId);
  }

  searchLogs(search: LogSearch): Promise<LogEntry[]> {
    return this.#visitLogs.searchLogs(search);
  }

  // VisitorAnalytics

  visitCounts(visitorIds: readonly number[]): Promise<Map<number, number>> {
    return this.analytics.visitCounts(visitorIds);
  }

  sharingCounts(visitorId: number): Promise<SharingCounts> {
    return this.analytics.sharingCounts(visitorId);
  }

  sharingReport(query: SharingReportQuery): Promise<SharingReportRow[]> {
    return this.analytics.sharingReport(query);
  }

  visitsPerDay(range: { visitorId?: number; from: Date; to: Date }): Promise<Map<number, number>> {
    return this.analytics.visitsPerDay(range);
  }
}
