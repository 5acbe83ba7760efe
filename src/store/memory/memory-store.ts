import { inBatches } from "../../core/batches.js";
import type { SharingCounts } from "../../core/sharing.js";
import type { VisitorLog, VisitorRecord } from "../../core/visitor.js";
import type {
  LogEntry,
  LogSearch,
  LogTruncation,
  NewVisitor,
  NewVisitorLog,
  PromotionResult,
  PurgeBatches,
  SharingReportQuery,
  SharingReportRow,
  VisitorChanges,
  VisitorCountFilter,
  VisitorFilter,
  VisitorStore,
} from "../store.js";

const DAY_MS = 86_400_000;

/**
 * A pass as the store holds it: times in epoch ms and the context as JSON text, as the SQL
 * stores keep them, so that what comes back is what a database would give back (a `Date` in the
 * context comes back as a string, `undefined` properties are dropped) and never an object a
 * caller still holds.
 */
interface PassRow {
  id: number;
  uuid: string;
  firstName: string;
  lastName: string;
  email: string;
  scope: string;
  context: string | null;
  createdAt: number;
  lastUpdatedAt: number;
  expiresAt: number | null;
  isActive: boolean;
  sessionExpiry: number | null;
  maxUses: number | null;
  uses: number;
  formUuid: string | null;
  promotedTo: string | null;
  promotedAt: number | null;
  freshLinks: boolean;
}

interface LogRow {
  id: number;
  visitorId: number;
  sessionKey: string | null;
  httpMethod: string;
  requestUri: string;
  queryString: string;
  httpUserAgent: string | null;
  httpReferer: string | null;
  remoteAddr: string | null;
  statusCode: number | null;
  timestamp: number;
  clientNetwork: string | null;
  browserFamily: string | null;
  idempotencyKey: string | null;
}

/** What every connection of one memory store shares. */
class MemoryData {
  nextPassId = 1;
  nextLogId = 1;
  /** By id, in insertion (so id) order. */
  readonly passes = new Map<number, PassRow>();
  readonly byUuid = new Map<string, PassRow>();
  readonly byFormUuid = new Map<string, PassRow>();
  readonly logs = new Map<number, LogRow[]>();
  readonly idempotencyKeys = new Set<string>();
  /** Bumped by every write that may change what a pass lookup returns. */
  version = 0;
}

/** The same refusal as a unique index's: the write is not made. */
export class MemoryStoreConstraintError extends Error {
  override name = "MemoryStoreConstraintError";
}

/**
 * The storage port in this process's memory: no database, nothing kept once the process ends.
 * For tests of the core and of apps, and as the reference of the port's contracts: each method
 * (each batch of a purge) runs to its end before any other call starts, with no `await` inside,
 * which makes it as atomic as the single statement or transaction of the SQL stores.
 *
 * `connect()` opens another connection to the same data, as a second process would have on a
 * database: each connection answers `changedElsewhere` for itself.
 */
export class MemoryStore implements VisitorStore {
  readonly #data: MemoryData;
  #seenVersion: number;
  #closed = false;

  /** A new, empty store; `data` is for `connect()` only. */
  constructor(data?: MemoryData) {
    this.#data = data ?? new MemoryData();
    this.#seenVersion = this.#data.version;
  }

  /** Another connection to the same passes and logs, with a `changedElsewhere` of its own. */
  connect(): MemoryStore {
    return new MemoryStore(this.#data);
  }

  get #db(): MemoryData {
    if (this.#closed) throw new Error("The memory store is closed.");
    return this.#data;
  }

  /**
   * Whether a pass may have been changed through another connection, or by this one, since the
   * last call: exact and immediate, so no `cacheMaxAge`. A connection cannot tell its own writes
   * from another's; its cache is then dropped once more than needed, never kept stale.
   */
  changedElsewhere(): boolean {
    const { version } = this.#data;
    const changed = version !== this.#seenVersion;
    this.#seenVersion = version;
    return changed;
  }

  /** Nothing to create; refused, as every call, on a closed connection. */
  /** Nothing to create: memory has no tables, so no migration is ever applied. */
  async migrate(): Promise<number> {
    void this.#db;
    return 0;
  }

  async insert(visitor: NewVisitor): Promise<VisitorRecord> {
    const db = this.#db;
    if (db.byUuid.has(visitor.uuid)) {
      throw new MemoryStoreConstraintError("A pass with this uuid is already stored.");
    }
    const row: PassRow = {
      id: db.nextPassId,
      uuid: visitor.uuid,
      firstName: visitor.firstName,
      lastName: visitor.lastName,
      email: visitor.email,
      scope: visitor.scope,
      context: visitor.context === null ? null : JSON.stringify(visitor.context),
      createdAt: visitor.createdAt.getTime(),
      lastUpdatedAt: visitor.lastUpdatedAt.getTime(),
      expiresAt: visitor.expiresAt?.getTime() ?? null,
      isActive: visitor.isActive,
      sessionExpiry: visitor.sessionExpiry,
      maxUses: visitor.maxUses,
      uses: visitor.uses,
      formUuid: null,
      promotedTo: null,
      promotedAt: null,
      freshLinks: visitor.freshLinks ?? false,
    };
    db.nextPassId += 1;
    db.passes.set(row.id, row);
    db.byUuid.set(row.uuid, row);
    db.version += 1;
    return toVisitor(row);
  }

  async findByUuid(uuid: string): Promise<VisitorRecord | null> {
    return orNull(this.#db.byUuid.get(uuid));
  }

  async findById(id: number): Promise<VisitorRecord | null> {
    return orNull(this.#db.passes.get(id));
  }

  async findByFormUuid(uuid: string): Promise<VisitorRecord | null> {
    return orNull(this.#db.byFormUuid.get(uuid));
  }

  async update(uuid: string, changes: VisitorChanges): Promise<VisitorRecord | null> {
    const db = this.#db;
    const row = db.byUuid.get(uuid);
    if (!row) return null;
    if (apply(row, changes)) db.version += 1;
    return toVisitor(row);
  }

  async admit(uuid: string, now: Date): Promise<VisitorRecord | null> {
    const row = this.#db.byUuid.get(uuid);
    const at = now.getTime();
    if (
      !row?.isActive ||
      // A promoted pass never admits again, even turned on by a reactivation racing it.
      row.promotedTo !== null ||
      // An unclaimed self-service request has no email: even turned on by mistake, it never admits.
      row.email === "" ||
      (row.expiresAt !== null && !(row.expiresAt > at)) ||
      (row.maxUses !== null && !(row.uses < row.maxUses))
    ) {
      return null;
    }
    row.uses += 1;
    return toVisitor(row);
  }

  async promote(uuid: string, userId: string, at: Date): Promise<PromotionResult | null> {
    const db = this.#db;
    const row = db.byUuid.get(uuid);
    if (!row) return null;
    if (row.promotedTo !== null) {
      return {
        outcome: row.promotedTo === userId ? "unchanged" : "conflict",
        record: toVisitor(row),
      };
    }
    row.promotedTo = userId;
    row.promotedAt = at.getTime();
    row.isActive = false;
    row.lastUpdatedAt = at.getTime();
    db.version += 1;
    return { outcome: "promoted", record: toVisitor(row) };
  }

  async claim(
    uuid: string,
    newUuid: string,
    changes: VisitorChanges,
  ): Promise<VisitorRecord | null> {
    const db = this.#db;
    const row = db.byUuid.get(uuid);
    if (!row || row.isActive) return null;
    if (newUuid !== uuid && db.byUuid.has(newUuid)) {
      throw new MemoryStoreConstraintError("A pass with this uuid is already stored.");
    }
    const formOwner = db.byFormUuid.get(uuid);
    if (formOwner && formOwner !== row) {
      throw new MemoryStoreConstraintError("A pass claimed from this form is already stored.");
    }
    apply(row, changes);
    if (row.formUuid !== null) db.byFormUuid.delete(row.formUuid);
    db.byUuid.delete(row.uuid);
    row.uuid = newUuid;
    row.formUuid = uuid;
    row.isActive = true;
    db.byUuid.set(newUuid, row);
    db.byFormUuid.set(uuid, row);
    db.version += 1;
    return toVisitor(row);
  }

  async renew(
    uuid: string,
    newUuid: string,
    now: Date,
    expiresAt: Date | null,
  ): Promise<VisitorRecord | null> {
    const db = this.#db;
    const row = db.byUuid.get(uuid);
    const at = now.getTime();
    const usedUp = row?.maxUses !== null && row?.maxUses !== undefined && row.uses >= row.maxUses;
    const expired = row?.expiresAt !== null && row?.expiresAt !== undefined && row.expiresAt <= at;
    if (!row?.isActive || row.email === "" || !(usedUp || expired)) return null;
    if (newUuid !== uuid && db.byUuid.has(newUuid)) {
      throw new MemoryStoreConstraintError("A pass with this uuid is already stored.");
    }
    db.byUuid.delete(row.uuid);
    row.uuid = newUuid;
    row.expiresAt = expiresAt?.getTime() ?? null;
    row.uses = 0;
    row.lastUpdatedAt = at;
    db.byUuid.set(newUuid, row);
    db.version += 1;
    return toVisitor(row);
  }

  async list(filter: VisitorFilter): Promise<VisitorRecord[]> {
    const rows = this.#filtered(filter).sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
    const offset = Math.max(0, filter.offset);
    return rows.slice(offset, offset + Math.max(0, filter.limit)).map(toVisitor);
  }

  async count(filter: VisitorCountFilter): Promise<number> {
    return this.#filtered(filter).length;
  }

  #filtered(filter: VisitorCountFilter): PassRow[] {
    const rows = [...this.#db.passes.values()];
    // NUL is what no stored pass can hold (PostgreSQL refuses it): it matches nothing anywhere.
    if ([filter.scope, filter.search, filter.promotedTo].some((text) => text?.includes("\u0000"))) {
      return [];
    }
    const search = filter.search ? filter.search.toLowerCase() : null;
    const now = (filter.now ?? new Date()).getTime();
    return rows.filter((row) => {
      if (filter.scope !== undefined && row.scope !== filter.scope) return false;
      if (filter.active !== undefined && row.isActive !== filter.active) return false;
      if (filter.promotedTo !== undefined && row.promotedTo !== filter.promotedTo) return false;
      if (filter.promoted !== undefined && (row.promotedTo !== null) !== filter.promoted) {
        return false;
      }
      if (
        search !== null &&
        ![row.firstName, row.lastName, row.email, row.scope].some((text) =>
          text.toLowerCase().includes(search),
        )
      ) {
        return false;
      }
      if (filter.valid !== undefined) {
        // As `Visitor#isValid`: active, and `expiresAt` unset or after now.
        const valid = row.isActive && (row.expiresAt === null || row.expiresAt > now);
        if (valid !== filter.valid) return false;
      }
      return true;
    });
  }

  async insertLogs(logs: readonly NewVisitorLog[]): Promise<number> {
    const db = this.#db;
    let refused = 0;
    for (const log of logs) {
      // As a foreign key would: the pass was deleted meanwhile.
      if (!db.passes.has(log.visitorId)) {
        refused += 1;
        continue;
      }
      const key = log.idempotencyKey ?? null;
      // Already written, by an earlier try of the same batch (or earlier in this one).
      if (key !== null && db.idempotencyKeys.has(key)) continue;
      if (key !== null) db.idempotencyKeys.add(key);
      const row: LogRow = {
        id: db.nextLogId,
        visitorId: log.visitorId,
        sessionKey: log.sessionKey,
        httpMethod: log.httpMethod,
        requestUri: log.requestUri,
        queryString: log.queryString,
        httpUserAgent: log.httpUserAgent,
        httpReferer: log.httpReferer,
        remoteAddr: log.remoteAddr,
        statusCode: log.statusCode,
        timestamp: log.timestamp.getTime(),
        clientNetwork: log.clientNetwork ?? null,
        browserFamily: log.browserFamily ?? null,
        idempotencyKey: key,
      };
      db.nextLogId += 1;
      const ofPass = db.logs.get(row.visitorId);
      if (ofPass) ofPass.push(row);
      else db.logs.set(row.visitorId, [row]);
    }
    return refused;
  }

  async logs(visitorId: number): Promise<VisitorLog[]> {
    const rows = [...(this.#db.logs.get(visitorId) ?? [])];
    rows.sort((a, b) => b.timestamp - a.timestamp || b.id - a.id);
    return rows.map(toLog);
  }

  async searchLogs(search: LogSearch): Promise<LogEntry[]> {
    const db = this.#db;
    if (search.scope?.includes("\u0000") || search.email?.includes("\u0000")) return [];
    const from = search.from?.getTime();
    const to = search.to?.getTime();
    const before = search.before && {
      timestamp: search.before.timestamp.getTime(),
      id: search.before.id,
    };
    const entries: LogEntry[] = [];
    const sources =
      search.visitorId === undefined
        ? [...db.logs.entries()]
        : [[search.visitorId, db.logs.get(search.visitorId) ?? []] as const];
    for (const [visitorId, rows] of sources) {
      const pass = db.passes.get(visitorId);
      if (!pass) continue;
      if (search.scope !== undefined && pass.scope !== search.scope) continue;
      if (search.email !== undefined && pass.email !== search.email) continue;
      for (const row of rows) {
        if (from !== undefined && row.timestamp < from) continue;
        if (to !== undefined && row.timestamp >= to) continue;
        if (search.statusCode !== undefined && row.statusCode !== search.statusCode) continue;
        if (
          before &&
          !(
            row.timestamp < before.timestamp ||
            (row.timestamp === before.timestamp && row.id < before.id)
          )
        ) {
          continue;
        }
        entries.push({ ...toLog(row), email: pass.email, scope: pass.scope });
      }
    }
    entries.sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime() || b.id - a.id);
    return entries.slice(0, Math.max(0, search.limit));
  }

  async visitCounts(visitorIds: readonly number[]): Promise<Map<number, number>> {
    const db = this.#db;
    return new Map(visitorIds.map((id) => [id, db.logs.get(id)?.length ?? 0]));
  }

  async sharingCounts(visitorId: number): Promise<SharingCounts> {
    return countsOf(this.#db.logs.get(visitorId) ?? []);
  }

  async sharingReport(query: SharingReportQuery): Promise<SharingReportRow[]> {
    const db = this.#db;
    if (query.scope?.includes("\u0000")) return [];
    const since = query.since?.getTime();
    const { thresholds } = query;
    const rows: (SharingReportRow & { flagged: boolean })[] = [];
    for (const [visitorId, logs] of db.logs) {
      const pass = db.passes.get(visitorId);
      if (!pass || (query.scope !== undefined && pass.scope !== query.scope)) continue;
      const counted = since === undefined ? logs : logs.filter((log) => log.timestamp >= since);
      if (counted.length === 0) continue;
      const counts = countsOf(counted);
      const flagged =
        counts.sessions > thresholds.sessions ||
        counts.networks > thresholds.networks ||
        counts.browsers > thresholds.browsers;
      if (query.flaggedOnly && !flagged) continue;
      rows.push({
        visitorId,
        uuid: pass.uuid,
        email: pass.email,
        scope: pass.scope,
        ...counts,
        flagged,
      });
    }
    rows.sort(
      (a, b) =>
        Number(b.flagged) - Number(a.flagged) ||
        b.sessions - a.sessions ||
        (b.lastVisit?.getTime() ?? 0) - (a.lastVisit?.getTime() ?? 0) ||
        b.visitorId - a.visitorId,
    );
    const offset = Math.max(0, query.offset);
    return rows
      .slice(offset, offset + Math.max(0, query.limit))
      .map(({ flagged: _, ...row }) => row);
  }

  async visitsPerDay(range: {
    visitorId?: number;
    from: Date;
    to: Date;
  }): Promise<Map<number, number>> {
    const db = this.#db;
    const from = range.from.getTime();
    const to = range.to.getTime();
    const sources =
      range.visitorId === undefined ? [...db.logs.values()] : [db.logs.get(range.visitorId) ?? []];
    const days = new Map<number, number>();
    for (const logs of sources) {
      for (const { timestamp } of logs) {
        if (timestamp < from || timestamp >= to) continue;
        // The same arithmetic as the SQL stores' (a remainder keeps the dividend's sign).
        const day = timestamp - (timestamp % DAY_MS);
        days.set(day, (days.get(day) ?? 0) + 1);
      }
    }
    return days;
  }

  async purge(before: Date, batches?: PurgeBatches): Promise<number> {
    const cutoff = before.getTime();
    return inBatches((size) => {
      const db = this.#db;
      const batch: PassRow[] = [];
      for (const row of db.passes.values()) {
        if (batch.length >= size) break;
        if (row.expiresAt !== null && row.expiresAt < cutoff) batch.push(row);
      }
      for (const row of batch) this.#delete(row);
      if (batch.length > 0) db.version += 1;
      return batch.length;
    }, batches);
  }

  async truncateLogs({ before, keep }: LogTruncation, batches?: PurgeBatches): Promise<number> {
    const cutoff = before?.getTime();
    return inBatches((size) => {
      const db = this.#db;
      let batch = 0;
      for (const [visitorId, rows] of db.logs) {
        if (batch >= size) break;
        // Newest first, as `logs()` gives them: the first `keep` stay.
        const ordered = [...rows].sort((a, b) => b.timestamp - a.timestamp || b.id - a.id);
        const doomed = new Set<LogRow>();
        for (const row of ordered.slice(keep ?? 0)) {
          if (batch >= size) break;
          if (cutoff !== undefined && row.timestamp >= cutoff) continue;
          doomed.add(row);
          batch += 1;
        }
        if (doomed.size === 0) continue;
        for (const row of doomed) {
          if (row.idempotencyKey !== null) db.idempotencyKeys.delete(row.idempotencyKey);
        }
        const kept = rows.filter((row) => !doomed.has(row));
        if (kept.length > 0) db.logs.set(visitorId, kept);
        else db.logs.delete(visitorId);
      }
      return batch;
    }, batches);
  }

  async deleteExpiredPending(before: Date, limit: number): Promise<number> {
    const db = this.#db;
    const cutoff = before.getTime();
    const batch: PassRow[] = [];
    for (const row of db.passes.values()) {
      if (batch.length >= limit) break;
      // Pending: inactive, no email yet, never claimed and never used.
      if (
        row.expiresAt !== null &&
        row.expiresAt < cutoff &&
        !row.isActive &&
        row.email === "" &&
        row.formUuid === null &&
        row.uses === 0
      ) {
        batch.push(row);
      }
    }
    for (const row of batch) this.#delete(row);
    if (batch.length > 0) db.version += 1;
    return batch.length;
  }

  /** Deletes a pass with its logs, as the logs' `on delete cascade` does. */
  #delete(row: PassRow): void {
    const db = this.#db;
    db.passes.delete(row.id);
    db.byUuid.delete(row.uuid);
    if (row.formUuid !== null) db.byFormUuid.delete(row.formUuid);
    for (const log of db.logs.get(row.id) ?? []) {
      if (log.idempotencyKey !== null) db.idempotencyKeys.delete(log.idempotencyKey);
    }
    db.logs.delete(row.id);
  }

  /** Closes this connection; the data stays for the store's other connections. */
  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** Applies `changes` to `row`; whether any was given. */
function apply(row: PassRow, changes: VisitorChanges): boolean {
  let changed = false;
  const set = <K extends keyof PassRow>(key: K, value: PassRow[K]) => {
    row[key] = value;
    changed = true;
  };
  if (changes.firstName !== undefined) set("firstName", changes.firstName);
  if (changes.lastName !== undefined) set("lastName", changes.lastName);
  if (changes.email !== undefined) set("email", changes.email);
  if (changes.context !== undefined) {
    set("context", changes.context === null ? null : JSON.stringify(changes.context));
  }
  if (changes.expiresAt !== undefined) set("expiresAt", changes.expiresAt?.getTime() ?? null);
  if (changes.isActive !== undefined) set("isActive", changes.isActive);
  if (changes.sessionExpiry !== undefined) set("sessionExpiry", changes.sessionExpiry);
  if (changes.maxUses !== undefined) set("maxUses", changes.maxUses);
  if (changes.lastUpdatedAt !== undefined) set("lastUpdatedAt", changes.lastUpdatedAt.getTime());
  return changed;
}

function orNull(row: PassRow | undefined): VisitorRecord | null {
  return row ? toVisitor(row) : null;
}

function toVisitor(row: PassRow): VisitorRecord {
  return {
    id: row.id,
    uuid: row.uuid,
    firstName: row.firstName,
    lastName: row.lastName,
    email: row.email,
    scope: row.scope,
    context: row.context === null ? null : JSON.parse(row.context),
    createdAt: new Date(row.createdAt),
    lastUpdatedAt: new Date(row.lastUpdatedAt),
    expiresAt: row.expiresAt === null ? null : new Date(row.expiresAt),
    isActive: row.isActive,
    sessionExpiry: row.sessionExpiry,
    maxUses: row.maxUses,
    uses: row.uses,
    promotedTo: row.promotedTo,
    promotedAt: row.promotedAt === null ? null : new Date(row.promotedAt),
    ...(row.freshLinks ? { freshLinks: true } : {}),
  };
}

function toLog(row: LogRow): VisitorLog {
  return {
    id: row.id,
    visitorId: row.visitorId,
    sessionKey: row.sessionKey,
    httpMethod: row.httpMethod,
    requestUri: row.requestUri,
    queryString: row.queryString,
    httpUserAgent: row.httpUserAgent,
    httpReferer: row.httpReferer,
    remoteAddr: row.remoteAddr,
    statusCode: row.statusCode,
    timestamp: new Date(row.timestamp),
  };
}

/**
 * The sharing counts of `logs`, as the SQL aggregates count them: crawlers and link scanners
 * (browser family `"bot"`) count as visits but not towards distinct sessions, networks or
 * browsers; a missing value (NULL) is never one of the distinct ones.
 */
function countsOf(logs: readonly LogRow[]): SharingCounts {
  const sessions = new Set<string>();
  const networks = new Set<string>();
  const browsers = new Set<string>();
  let withoutSession = 0;
  let byCrawlers = 0;
  let first: number | null = null;
  let last: number | null = null;
  for (const log of logs) {
    const crawler = log.browserFamily === "bot";
    if (!crawler) {
      if (log.sessionKey !== null) sessions.add(log.sessionKey);
      if (log.clientNetwork !== null) networks.add(log.clientNetwork);
      if (log.browserFamily !== null) browsers.add(log.browserFamily);
    }
    if (log.sessionKey === null) withoutSession += 1;
    if (crawler) byCrawlers += 1;
    if (first === null || log.timestamp < first) first = log.timestamp;
    if (last === null || log.timestamp > last) last = log.timestamp;
  }
  return {
    visits: logs.length,
    sessions: sessions.size,
    networks: networks.size,
    browsers: browsers.size,
    withoutSession,
    byCrawlers,
    firstVisit: first === null ? null : new Date(first),
    lastVisit: last === null ? null : new Date(last),
  };
}
