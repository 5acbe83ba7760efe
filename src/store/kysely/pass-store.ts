import {
  type Kysely,
  type Selectable,
  sql,
  type UpdateQueryBuilder,
  type UpdateResult,
} from "kysely";
import { inBatches } from "../../core/batches.js";
import type { VisitorRecord } from "../../core/visitor.js";
import type {
  NewVisitor,
  PassStore,
  PromotionResult,
  PurgeBatches,
  VisitorChanges,
  VisitorCountFilter,
  VisitorFilter,
} from "../store.js";
import { type Database, matchesNothing, type SqlTables, type VisitorRow } from "./schema.js";
import type { SqliteFastPath } from "./sqlite-fast-path.js";
import type { Bounded } from "./store-deadline.js";

type VisitorUpdate = UpdateQueryBuilder<Database, "visitors", "visitors", UpdateResult>;

/**
 * The passes (`PassStore`) in SQL: the visitors table, and its logs where a purge deletes them.
 * `bounded` runs the calls of the request path within their deadline; `sqlite`, on a SQLite
 * database this package opened, makes the writes that end access wait until every process
 * sees them (`SqliteFastPath#seenElsewhere`).
 */
export class KyselyPassStore implements PassStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlTables["dialect"];
  readonly #t: SqlTables["t"];
  readonly #bounded: Bounded;
  readonly #sqlite: SqliteFastPath | null;

  constructor({ db, dialect, t }: SqlTables, bounded: Bounded, sqlite: SqliteFastPath | null) {
    this.#db = db;
    this.#dialect = dialect;
    this.#t = t;
    this.#bounded = bounded;
    this.#sqlite = sqlite;
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
      is_active: this.#dialect.bool(visitor.isActive),
      session_expiry: visitor.sessionExpiry,
      max_uses: visitor.maxUses,
      uses: visitor.uses,
      ...(visitor.freshLinks ? { fresh_links: this.#dialect.bool(true) } : {}),
    };
    const insert = this.#db.insertInto(this.#t.visitors).values(row);
    if (!this.#dialect.supportsReturning) {
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
    const row = await this.#db
      .selectFrom(this.#t.visitors)
      .selectAll()
      .where(column, "=", uuid)
      .executeTakeFirst();
    return row ? toVisitor(row) : null;
  }

  async findById(id: number): Promise<VisitorRecord | null> {
    const row = await this.#db
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
          is_active: this.#dialect.bool(true),
        } as never)
        .where("uuid", "=", uuid)
        .where("is_active", "=", this.#dialect.bool(false)),
    );
  }

  async promote(uuid: string, userId: string, at: Date): Promise<PromotionResult | null> {
    const record = await this.#bounded(() =>
      this.#updateReturning(uuid, true, (db) =>
        db
          .updateTable(this.#t.visitors)
          .set({
            promoted_to: userId,
            promoted_at: at.getTime(),
            is_active: this.#dialect.bool(false),
            last_updated_at: at.getTime(),
          } as never)
          .where("uuid", "=", uuid)
          .where("promoted_to", "is", null),
      ),
    );
    if (record) {
      // Access ends in every process once this resolves, as for a deactivation.
      await this.#sqlite?.seenElsewhere();
      return { outcome: "promoted", record };
    }
    const current = await this.findByUuid(uuid);
    if (!current) return null;
    // MySQL's `=` ignores trailing spaces: the ids are compared here, exactly.
    return { outcome: current.promotedTo === userId ? "unchanged" : "conflict", record: current };
  }

  async renew(
    uuid: string,
    newUuid: string,
    now: Date,
    expiresAt: Date | null,
  ): Promise<VisitorRecord | null> {
    const at = now.getTime();
    const record = await this.#bounded(() =>
      this.#updateReturning(newUuid, true, (db) =>
        db
          .updateTable(this.#t.visitors)
          .set({
            uuid: newUuid,
            expires_at: expiresAt?.getTime() ?? null,
            uses: 0,
            last_updated_at: at,
          })
          .where("uuid", "=", uuid)
          .where("is_active", "=", this.#dialect.bool(true))
          .where("email", "<>", "")
          // Only a link that can no longer admit: expired, or used as often as it may be.
          .where((eb) =>
            eb.or([
              eb("expires_at", "<=", at),
              eb.and([eb("max_uses", "is not", null), eb("uses", ">=", eb.ref("max_uses"))]),
            ]),
          ),
      ),
    );
    // The old token names nothing in every process once this resolves.
    if (record) await this.#sqlite?.seenElsewhere();
    return record;
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
    if (changes.isActive !== undefined) set.is_active = this.#dialect.bool(changes.isActive);
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
          .where("is_active", "=", this.#dialect.bool(true))
          // A promoted pass never admits again, even turned on by a reactivation racing it.
          .where("promoted_to", "is", null)
          // An unclaimed self-service request has no email: even turned on by mistake, it never admits.
          .where("email", "<>", "")
          .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", at)]))
          .where((eb) => eb.or([eb("max_uses", "is", null), eb("uses", "<", eb.ref("max_uses"))])),
      ),
    );
  }

  /**
   * Runs `update` and returns the pass with `uuid` as that update left it: `null` when there is
   * none, or when the update is `conditional` and matched no row. Where the database supports
   * `returning` (PostgreSQL, SQLite) the row comes from the update itself; elsewhere (MySQL) it
   * is read back in the same transaction, under the update's row lock, so no other write comes
   * between.
   */
  async #updateReturning(
    uuid: string,
    conditional: boolean,
    update: (db: Kysely<Database>) => VisitorUpdate,
  ): Promise<VisitorRecord | null> {
    if (this.#dialect.supportsReturning) {
      const row = await update(this.#db).returningAll().executeTakeFirst();
      return row ? toVisitor(row) : null;
    }
    return this.#db.transaction().execute(async (trx) => {
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
    const bool = this.#dialect.bool;
    let query = this.#db.selectFrom(this.#t.visitors);
    if (
      matchesNothing(filter.scope) ||
      matchesNothing(filter.search) ||
      matchesNothing(filter.promotedTo)
    ) {
      // Not even sent: PostgreSQL refuses a parameter holding NUL.
      return query.where(sql<boolean>`1 = 0`);
    }
    if (filter.scope !== undefined) {
      query = query.where("scope", "=", filter.scope);
      const exactly = this.#dialect.exactly;
      if (exactly) query = query.where(exactly("scope", filter.scope));
    }
    if (filter.active !== undefined) query = query.where("is_active", "=", bool(filter.active));
    if (filter.promotedTo !== undefined) {
      query = query.where("promoted_to", "=", filter.promotedTo);
      const exactly = this.#dialect.exactly;
      if (exactly) query = query.where(exactly("promoted_to", filter.promotedTo));
    }
    if (filter.promoted !== undefined) {
      query = query.where("promoted_to", filter.promoted ? "is not" : "is", null);
    }
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
              eb("is_active", "=", bool(true)),
              eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]),
            ])
          : eb.or([eb("is_active", "=", bool(false)), eb("expires_at", "<=", now)]),
      );
    }
    return query;
  }

  async purge(before: Date, batches?: PurgeBatches): Promise<number> {
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
    const purged = await inBatches(async (size) => {
      // Writes only, with no read first: a SQLite transaction that reads and then writes fails
      // outright when another connection wrote in between.
      const deleted = await this.#db.transaction().execute(async (trx) => {
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
      return deleted;
    }, batches);
    // A session holding a purged pass is refused by every process once this resolves.
    if (purged > 0) await this.#sqlite?.seenElsewhere();
    return purged;
  }

  deleteExpiredPending(before: Date, limit: number): Promise<number> {
    // Within the request path's deadline, though no request waits for it: a small batch, sent
    // beside requests, whose query a silent network would otherwise hold (and `close()` with it)
    // for ever.
    return this.#bounded(() => this.#deleteExpiredPending(before, limit));
  }

  async #deleteExpiredPending(before: Date, limit: number): Promise<number> {
    // A pending pass: inactive, no email yet, never claimed (no form_uuid) and never used (so it
    // has no visit logs to delete first). The ids go through a derived table for MySQL, as in
    // purge.
    const { numDeletedRows } = await this.#db
      .deleteFrom(this.#t.visitors)
      .where("id", "in", (db) =>
        db
          .selectFrom(
            db
              .selectFrom(this.#t.visitors)
              .select("id")
              .where("expires_at", "<", before.getTime())
              .where("is_active", "=", this.#dialect.bool(false))
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
    promotedTo: row.promoted_to ?? null,
    promotedAt:
      row.promoted_at === null || row.promoted_at === undefined ? null : toDate(row.promoted_at),
    ...(Number(row.fresh_links) ? { freshLinks: true } : {}),
  };
}
