import { setTimeout as sleep } from "node:timers/promises";
import {
  CompiledQuery,
  type Kysely,
  type Selectable,
  type SelectQueryBuilder,
  sql,
  type UpdateQueryBuilder,
  type UpdateResult,
} from "kysely";
import { type DatabaseTarget, DEFAULT_STORE_TIMEOUT } from "../../core/config.js";
import type { SharingCounts } from "../../core/sharing.js";
import type { VisitorLog, VisitorRecord } from "../../core/visitor.js";
import type {
  LogTruncation,
  NewVisitor,
  NewVisitorLog,
  PassChangeFeed,
  PassStore,
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
import { KyselyAnalytics, matchesNothing } from "./kysely-analytics.js";
import { connect, type SqlFamily } from "./kysely-connect.js";
import { migrateToLatest, type TableNames, tableNames } from "./kysely-migrations.js";
import type { Database, VisitorLogRow, VisitorRow } from "./kysely-schema.js";
import {
  isConstraintViolation,
  type LogRow,
  logInsertSql,
  logParameters,
  logRow,
} from "./log-inserts.js";
import { PgChangeListener } from "./pg-change-listener.js";
import { SqliteFastPath } from "./sqlite-fast-path.js";
import { storageFull } from "./storage-full.js";
import { withDeadline } from "./store-deadline.js";

const PURGE_BATCH = 250;
/** Passes whose logs a truncation counts at a time, when it keeps the newest of each. */
const TRUNCATE_PASSES = 100;
/** How long one purge batch should take at most, in ms; longer ones make the next smaller. */
const PURGE_BUDGET_MS = 40;

/** How long a pass cached by notification (`passCache: "listen"`) is served at most, in ms. */
const LISTEN_MAX_AGE = 5_000;

type VisitorUpdate = UpdateQueryBuilder<Database, "visitors", "visitors", UpdateResult>;

/**
 * Every storage role of the core (`VisitorStore`) on Kysely: SQLite, PostgreSQL and
 * MySQL/MariaDB with the same rows.
 */
export class KyselyStore
  implements PassStore, VisitLogStore, VisitorAnalytics, PassChangeFeed, StoreLifecycle
{
  readonly db: Kysely<Database>;
  readonly family: SqlFamily;
  readonly #owned: boolean;
  readonly #t: TableNames;
  /** The analytics queries, on the same tables. */
  readonly analytics: KyselyAnalytics;

  readonly changedElsewhere?: () => boolean;
  readonly cacheMaxAge?: number;
  readonly #sqlite: SqliteFastPath | null;
  readonly #listener: PgChangeListener | null = null;
  /** The deadline of each call that touches one pass or writes visits, in ms; none on SQLite. */
  readonly #timeout: number | null;

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
    const connection = connect(target, { storeTimeout });
    this.db = connection.db;
    this.family = connection.family;
    this.#owned = connection.owned;
    this.#t = tableNames(tablePrefix);
    this.analytics = new KyselyAnalytics(this.db, this.family, this.#t);
    this.#timeout = this.family === "sqlite" ? null : storeTimeout;
    this.#sqlite = connection.sqlite
      ? new SqliteFastPath(connection.sqlite, this.#t.logs, {
          shared: connection.sqliteShared,
          storeTimeout,
        })
      : null;
    if (this.#sqlite) {
      const fast = this.#sqlite;
      this.changedElsewhere = () => fast.changedElsewhere();
    } else if (options.listen && target.kind === "postgres") {
      const listener = new PgChangeListener(target.url, this.#t);
      this.#listener = listener;
      this.changedElsewhere = () => listener.changedElsewhere();
      this.cacheMaxAge = LISTEN_MAX_AGE;
    }
  }

  migrate(): Promise<number> {
    return migrateToLatest(this.db, this.family, this.#t, { listen: this.#listener !== null });
  }

  /**
   * Runs `call` within the deadline, where there is one. Such calls are each a statement or two
   * on one pass, or one insert of visits: quick unless the database is unreachable. Migrations,
   * purges, listings and reports may take longer, and have none.
   */
  #bounded<T>(call: () => Promise<T>): Promise<T> {
    if (this.#timeout === null) return call();
    // SQLite names a full disk in its own statements; PostgreSQL and MySQL are named here.
    return withDeadline(this.#timeout, call).catch((error: unknown) => {
      throw storageFull(error) ?? error;
    });
  }

  insert(visitor: NewVisitor): Promise<VisitorRecord> {
    return this.#bounded(() => this.#insert(visitor));
  }

  async #insert(visitor: NewVisitor): Promise<VisitorRecord> {
    const row = {
      uuid: visitor.uuid,
      first_name: visitor.firstName,
      last_name: visitor.lastName,
      email: visitor.email,
      scope: visitor.scope,
      context: visitor.context === null ? null : JSON.stringify(visitor.context),
      created_at: visitor.createdAt.getTime(),
      last_updated_at: visitor.lastUpdatedAt.getTime(),
      expires_at: visitor.expiresAt?.getTime() ?? null,
      is_active: this.#bool(visitor.isActive),
      session_expiry: visitor.sessionExpiry,
      max_uses: visitor.maxUses,
      uses: visitor.uses,
    };
    const insert = this.db.insertInto(this.#t.visitors).values(row);
    if (this.family === "mysql") {
      const result = await insert.executeTakeFirstOrThrow();
      return { ...visitor, id: Number(result.insertId) };
    }
    const { id } = await insert.returning("id").executeTakeFirstOrThrow();
    return { ...visitor, id: Number(id) };
  }

  findByUuid(uuid: string): Promise<VisitorRecord | null> {
    return this.#bounded(() => this.#findBy("uuid", uuid));
  }

  async #findBy(column: "uuid" | "form_uuid", uuid: string): Promise<VisitorRecord | null> {
    const row = await this.db
      .selectFrom(this.#t.visitors)
      .selectAll()
      .where(column, "=", uuid)
      .executeTakeFirst();
    return row ? toVisitor(row) : null;
  }

  async findById(id: number): Promise<VisitorRecord | null> {
    const row = await this.db
      .selectFrom(this.#t.visitors)
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toVisitor(row) : null;
  }

  async update(uuid: string, changes: VisitorChanges): Promise<VisitorRecord | null> {
    const set = this.#columns(changes);
    if (Object.keys(set).length === 0) return this.findByUuid(uuid);
    const record = await this.#updateReturning(uuid, false, (db) =>
      db
        .updateTable(this.#t.visitors)
        .set(set as never)
        .where("uuid", "=", uuid),
    );
    // A deactivation is refused by every process once this resolves.
    if (record) await this.#sqlite?.seenElsewhere();
    return record;
  }

  findByFormUuid(uuid: string): Promise<VisitorRecord | null> {
    return this.#bounded(() => this.#findBy("form_uuid", uuid));
  }

  async claim(
    uuid: string,
    newUuid: string,
    changes: VisitorChanges,
  ): Promise<VisitorRecord | null> {
    const record = await this.#bounded(() => this.#claim(uuid, newUuid, changes));
    // The form's token names the pass it became in every process once this resolves.
    if (record) await this.#sqlite?.seenElsewhere();
    return record;
  }

  #claim(uuid: string, newUuid: string, changes: VisitorChanges): Promise<VisitorRecord | null> {
    return this.#updateReturning(newUuid, true, (db) =>
      db
        .updateTable(this.#t.visitors)
        .set({
          ...this.#columns(changes),
          uuid: newUuid,
          form_uuid: uuid,
          is_active: this.#bool(true),
        } as never)
        .where("uuid", "=", uuid)
        .where("is_active", "=", this.#bool(false)),
    );
  }

  #columns(changes: VisitorChanges): Partial<Record<keyof VisitorRow, unknown>> {
    const set: Partial<Record<keyof VisitorRow, unknown>> = {};
    if (changes.firstName !== undefined) set.first_name = changes.firstName;
    if (changes.lastName !== undefined) set.last_name = changes.lastName;
    if (changes.email !== undefined) set.email = changes.email;
    if (changes.context !== undefined) {
      set.context = changes.context === null ? null : JSON.stringify(changes.context);
    }
    if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt?.getTime() ?? null;
    if (changes.isActive !== undefined) set.is_active = this.#bool(changes.isActive);
    if (changes.sessionExpiry !== undefined) set.session_expiry = changes.sessionExpiry;
    if (changes.maxUses !== undefined) set.max_uses = changes.maxUses;
    if (changes.lastUpdatedAt !== undefined) set.last_updated_at = changes.lastUpdatedAt.getTime();
    return set;
  }

  admit(uuid: string, now: Date): Promise<VisitorRecord | null> {
    const at = now.getTime();
    return this.#bounded(() =>
      this.#updateReturning(uuid, true, (db) =>
        db
          .updateTable(this.#t.visitors)
          .set((eb) => ({ uses: eb("uses", "+", 1) }))
          .where("uuid", "=", uuid)
          .where("is_active", "=", this.#bool(true))
          // An unclaimed self-service request has no email: even turned on by mistake, it never admits.
          .where("email", "<>", "")
          .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", at)]))
          .where((eb) => eb.or([eb("max_uses", "is", null), eb("uses", "<", eb.ref("max_uses"))])),
      ),
    );
  }

  /**
   * Runs `update` and returns the pass with `uuid` as that update left it: `null` when there is
   * none, or when the update is `conditional` and matched no row. PostgreSQL and SQLite return the
   * row from the update itself. MySQL has no RETURNING: it reads the row back in the same
   * transaction, under the update's row lock, so no other write comes between.
   */
  async #updateReturning(
    uuid: string,
    conditional: boolean,
    update: (db: Kysely<Database>) => VisitorUpdate,
  ): Promise<VisitorRecord | null> {
    if (this.family !== "mysql") {
      const row = await update(this.db).returningAll().executeTakeFirst();
      return row ? toVisitor(row) : null;
    }
    return this.db.transaction().execute(async (trx) => {
      const { numUpdatedRows } = await update(trx).executeTakeFirst();
      // Only a conditional update asks the count: MySQL may count 0 for a row left unchanged.
      if (conditional && Number(numUpdatedRows) === 0) return null;
      const row = await trx
        .selectFrom(this.#t.visitors)
        .selectAll()
        .where("uuid", "=", uuid)
        .executeTakeFirst();
      return row ? toVisitor(row) : null;
    });
  }

  async list(filter: VisitorFilter): Promise<VisitorRecord[]> {
    const rows = await this.#filtered(filter)
      .selectAll()
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(filter.limit)
      .offset(filter.offset)
      .execute();
    return rows.map(toVisitor);
  }

  async count(filter: VisitorCountFilter): Promise<number> {
    const row = await this.#filtered(filter)
      .select(sql<number | string>`count(*)`.as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The passes that `filter` selects, without paging. */
  #filtered(filter: VisitorCountFilter) {
    let query = this.db.selectFrom(this.#t.visitors);
    if (matchesNothing(filter.scope) || matchesNothing(filter.search)) {
      // Not even sent: PostgreSQL refuses a parameter holding NUL.
      return query.where(sql<boolean>`1 = 0`);
    }
    if (filter.scope !== undefined) query = query.where("scope", "=", filter.scope);
    if (filter.scope !== undefined && this.family === "mysql") {
      // MySQL's `=` ignores trailing spaces, even in a binary collation: compare the bytes.
      query = query.where(
        sql<boolean>`cast(${sql.ref("scope")} as binary) = cast(${filter.scope} as binary)`,
      );
    }
    if (filter.active !== undefined)
      query = query.where("is_active", "=", this.#bool(filter.active));
    if (filter.search) {
      const pattern = `%${filter.search.toLowerCase().replace(/[!%_]/g, "!$&")}%`;
      query = query.where((eb) =>
        eb.or(
          (["first_name", "last_name", "email", "scope"] as const).map(
            (column) => sql<boolean>`lower(${eb.ref(column)}) like ${pattern} escape '!'`,
          ),
        ),
      );
    }
    if (filter.valid !== undefined) {
      // As `Visitor#isValid`: active, and `expiresAt` unset or after now.
      const now = (filter.now ?? new Date()).getTime();
      query = query.where((eb) =>
        filter.valid
          ? eb.and([
              eb("is_active", "=", this.#bool(true)),
              eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]),
            ])
          : eb.or([eb("is_active", "=", this.#bool(false)), eb("expires_at", "<=", now)]),
      );
    }
    return query;
  }

  async insertLogs(logs: readonly NewVisitorLog[]): Promise<number> {
    if (logs.length === 0) return 0;
    const rows = logs.map(logRow);
    const fast = await this.#sqlite?.insertLogs(rows);
    if (fast !== undefined && fast !== null) return fast;
    return this.#bounded(() => this.#insertLogs(rows));
  }

  async #insertLogs(rows: readonly LogRow[]): Promise<number> {
    try {
      await this.#insertRows(rows);
      return 0;
    } catch (error) {
      if (!isConstraintViolation(error)) throw error;
    }
    // A row the database refuses (its pass was deleted meanwhile) must not hold up the others.
    let refused = 0;
    for (const row of rows) {
      try {
        await this.#insertRows([row]);
      } catch (error) {
        if (!isConstraintViolation(error)) throw error;
        refused += 1;
      }
    }
    return refused;
  }

  /** One multi-row insert, its text written here rather than by the query builder (cheaper). */
  async #insertRows(rows: readonly LogRow[]): Promise<void> {
    const text = logInsertSql(this.family, this.#t.logs, rows.length);
    await this.db.executeQuery(CompiledQuery.raw(text, logParameters(rows)));
  }

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

  async logs(visitorId: number): Promise<VisitorLog[]> {
    const rows = await this.db
      .selectFrom(this.#t.logs)
      .selectAll()
      .where("visitor_id", "=", visitorId)
      .orderBy("timestamp", "desc")
      .orderBy("id", "desc")
      .execute();
    return rows.map(toLog);
  }

  async purge(
    before: Date,
    {
      batchSize = PURGE_BATCH,
      budgetMs = PURGE_BUDGET_MS,
      onBatch,
      pause = sleep,
    }: PurgeBatches = {},
  ): Promise<number> {
    const cutoff = before.getTime();
    // The ids of one batch, in a derived table: MySQL takes neither a LIMIT in an IN subquery nor
    // a subquery on the table a DELETE deletes from, unless it is wrapped so.
    const batch = (db: Kysely<Database>, size: number) =>
      db
        .selectFrom(
          db
            .selectFrom(this.#t.visitors)
            .select("id")
            .where("expires_at", "<", cutoff)
            .orderBy("id")
            .limit(size)
            .as("batch"),
        )
        .select("batch.id");
    let purged = 0;
    let size = batchSize;
    for (;;) {
      const started = performance.now();
      // Writes only, with no read first: a SQLite transaction that reads and then writes fails
      // outright when another connection wrote in between.
      const deleted = await this.db.transaction().execute(async (trx) => {
        await trx.deleteFrom(this.#t.logs).where("visitor_id", "in", batch(trx, size)).execute();
        const { numDeletedRows } = await trx
          .deleteFrom(this.#t.visitors)
          .where("id", "in", batch(trx, size))
          .executeTakeFirst();
        return Number(numDeletedRows);
      });
      // SQLite: the batch's pages copied back into the database now, inside the batch's time,
      // rather than by an automatic checkpoint every thousand pages, which held the event loop
      // for one batch in many up to ~170 ms (bench/README.md, "Purge").
      this.#sqlite?.checkpoint();
      const took = performance.now() - started;
      purged += deleted;
      if (deleted > 0) onBatch?.(purged);
      if (deleted < size) {
        // A session holding a purged pass is refused by every process once this resolves.
        if (purged > 0) await this.#sqlite?.seenElsewhere();
        return purged;
      }
      // A batch holds the event loop while SQLite works (its driver is synchronous), commit and
      // checkpoint included: smaller batches while they take longer than the budget, larger (up
      // to `batchSize`) while they are quick.
      if (took > budgetMs) size = Math.max(1, Math.floor(size / 2));
      else if (took < budgetMs / 4) size = Math.min(batchSize, size * 2);
      // Rest as long as the batch took before the next one. With a synchronous driver (SQLite) a
      // batch holds the event loop, and a request usually needs several turns of the loop
      // (session load, pass lookup, response): yielding for one turn only (setImmediate) let a
      // request wait for batch after batch (~200 ms measured); a rest lets requests in flight
      // finish between two batches. It also leaves the database to other writers half the time.
      await pause(Math.max(1, Math.ceil(took)));
    }
  }

  async truncateLogs(
    { before, keep }: LogTruncation,
    {
      batchSize = PURGE_BATCH,
      budgetMs = PURGE_BUDGET_MS,
      onBatch,
      pause = sleep,
    }: PurgeBatches = {},
  ): Promise<number> {
    const cutoff = before?.getTime();
    const batches = { batchSize, budgetMs, pause };
    let deleted = 0;
    const count = (n: number) => {
      deleted += n;
      onBatch?.(deleted);
    };
    if (keep === undefined) {
      await this.#deleteLogBatches(
        (db, size) => {
          let ids = db.selectFrom(this.#t.logs).select("id");
          if (cutoff !== undefined) ids = ids.where("timestamp", "<", cutoff);
          // In the order of the time index: when nothing is left to delete, finding so is cheap.
          return ids.orderBy("timestamp").limit(size);
        },
        batches,
        count,
      );
      return deleted;
    }
    // Pass by pass, among those with more than `keep` logs, a range of pass ids at a time, so
    // that each count reads the logs of at most `TRUNCATE_PASSES` passes.
    let after = 0;
    for (;;) {
      const range = await this.db
        .selectFrom(this.#t.visitors)
        .select("id")
        .where("id", ">", after)
        .orderBy("id")
        .limit(TRUNCATE_PASSES)
        .execute();
      if (range.length === 0) return deleted;
      const upTo = Number(range[range.length - 1]!.id);
      const page = await this.db
        .selectFrom(this.#t.logs)
        .select("visitor_id")
        .where("visitor_id", ">", after)
        .where("visitor_id", "<=", upTo)
        .groupBy("visitor_id")
        .having((eb) => eb.fn.countAll(), ">", keep)
        .execute();
      for (const { visitor_id } of page) {
        const visitorId = Number(visitor_id);
        // The oldest log the pass keeps: every older one goes (logs written meanwhile are newer).
        const edge =
          keep === 0
            ? null
            : await this.db
                .selectFrom(this.#t.logs)
                .select(["timestamp", "id"])
                .where("visitor_id", "=", visitorId)
                .orderBy("timestamp", "desc")
                .orderBy("id", "desc")
                .limit(1)
                .offset(keep - 1)
                .executeTakeFirst();
        if (keep > 0 && !edge) continue;
        await this.#deleteLogBatches(
          (db, size) => {
            let ids = db.selectFrom(this.#t.logs).select("id").where("visitor_id", "=", visitorId);
            if (edge) {
              const time = Number(edge.timestamp);
              const id = Number(edge.id);
              ids = ids.where((eb) =>
                eb.or([
                  eb("timestamp", "<", time),
                  eb.and([eb("timestamp", "=", time), eb("id", "<", id)]),
                ]),
              );
            }
            if (cutoff !== undefined) ids = ids.where("timestamp", "<", cutoff);
            return ids.orderBy("timestamp").limit(size);
          },
          batches,
          count,
        );
      }
      if (range.length < TRUNCATE_PASSES) return deleted;
      after = upTo;
    }
  }

  /**
   * Deletes the logs whose ids `ids` selects (at most `size`), batch after batch until one
   * deletes fewer, sized and rested between as a purge's; `count` is told each batch's count.
   */
  async #deleteLogBatches(
    ids: (
      db: Kysely<Database>,
      size: number,
    ) => SelectQueryBuilder<Database, "visitor_logs", { id: number }>,
    { batchSize, budgetMs, pause }: Required<Omit<PurgeBatches, "onBatch">>,
    count: (deleted: number) => void,
  ): Promise<void> {
    let size = batchSize;
    for (;;) {
      const started = performance.now();
      // Through a derived table, for MySQL (as in `purge`).
      const { numDeletedRows } = await this.db
        .deleteFrom(this.#t.logs)
        .where("id", "in", this.db.selectFrom(ids(this.db, size).as("batch")).select("batch.id"))
        .executeTakeFirst();
      const deleted = Number(numDeletedRows);
      this.#sqlite?.checkpoint();
      const took = performance.now() - started;
      if (deleted > 0) count(deleted);
      if (deleted < size) return;
      if (took > budgetMs) size = Math.max(1, Math.floor(size / 2));
      else if (took < budgetMs / 4) size = Math.min(batchSize, size * 2);
      await pause(Math.max(1, Math.ceil(took)));
    }
  }

  async deleteExpiredPending(before: Date, limit: number): Promise<number> {
    // A pending pass: inactive, no email yet, never claimed (no form_uuid) and never used (so it
    // has no visit logs to delete first). The ids go through a derived table for MySQL, as in
    // purge.
    const { numDeletedRows } = await this.db
      .deleteFrom(this.#t.visitors)
      .where("id", "in", (db) =>
        db
          .selectFrom(
            db
              .selectFrom(this.#t.visitors)
              .select("id")
              .where("expires_at", "<", before.getTime())
              .where("is_active", "=", this.#bool(false))
              .where("email", "=", "")
              .where("form_uuid", "is", null)
              .where("uses", "=", 0)
              .limit(limit)
              .as("batch"),
          )
          .select("batch.id"),
      )
      .executeTakeFirst();
    return Number(numDeletedRows);
  }

  async close(): Promise<void> {
    await this.#listener?.close();
    if (this.#owned) await this.db.destroy();
  }

  #bool(value: boolean): number | boolean {
    return this.family === "sqlite" ? (value ? 1 : 0) : value;
  }
}

function toDate(value: number | string | bigint): Date {
  return new Date(Number(value));
}

function toVisitor(row: Selectable<VisitorRow>): VisitorRecord {
  return {
    id: Number(row.id),
    uuid: row.uuid,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    scope: row.scope,
    context: row.context === null ? null : JSON.parse(row.context),
    createdAt: toDate(row.created_at),
    lastUpdatedAt: toDate(row.last_updated_at),
    expiresAt: row.expires_at === null ? null : toDate(row.expires_at),
    isActive: Boolean(Number(row.is_active)),
    sessionExpiry: row.session_expiry === null ? null : Number(row.session_expiry),
    maxUses: row.max_uses === null ? null : Number(row.max_uses),
    uses: Number(row.uses),
  };
}

function toLog(row: Selectable<VisitorLogRow>): VisitorLog {
  return {
    id: Number(row.id),
    visitorId: Number(row.visitor_id),
    sessionKey: row.session_key,
    httpMethod: row.http_method,
    requestUri: row.request_uri,
    queryString: row.query_string,
    httpUserAgent: row.http_user_agent,
    httpReferer: row.http_referer,
    remoteAddr: row.remote_addr,
    statusCode: row.status_code === null ? null : Number(row.status_code),
    timestamp: toDate(row.timestamp),
  };
}
