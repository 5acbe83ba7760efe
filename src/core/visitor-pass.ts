import { randomUUID } from "node:crypto";
import { type ResolvedConfig, resolveConfig, type VisitorPassOptions } from "./config.js";
import {
  PassAlreadyPromoted,
  PromotedPassError,
  UnclaimedRequestError,
  VisitorPassError,
  VisitorPassThrottled,
  VisitorPassUnavailable,
  VisitorPassValidationError,
} from "./errors.js";
import {
  PassEvents,
  type VisitorPassEventHandler,
  type VisitorPassEventMap,
  type VisitorPassEventName,
} from "./events.js";
import { FreshLinkSender } from "./fresh-links.js";
import { LinkOutbox, LinkSender, type OutboxEntry, withOutbox } from "./link-outbox.js";
import { htmlPage } from "./page.js";
import { PassCache } from "./pass-cache.js";
import { PassRecords } from "./pass-records.js";
import type {
  SelfServiceBackend,
  SelfServiceFields,
  VisitorPassParts,
  VisitorStore,
} from "./ports.js";
import {
  type LogPage,
  logCursor,
  type PromoteInput,
  parsePromote,
  parseSearchLogs,
  type SearchLogsOptions,
} from "./promotion.js";
import { type FlowBackend, VisitorFlow } from "./request-flow.js";
import {
  type CountVisitorsInput,
  DAY_MS,
  type DailyVisits,
  fillDays,
  parseCountFilter,
  parseSharingReportOptions,
  parseVisitorIds,
  parseVisitsOverTimeOptions,
  type SharingReportOptions,
  type SharingSignals,
  sharingSignals,
  utcDay,
  type VisitsOverTimeOptions,
} from "./sharing.js";
import { SharingWatch } from "./sharing-watch.js";
import { Throttles } from "./throttle.js";
import { TokenKeys } from "./token-keys.js";
import { addToken, parseToken } from "./tokens.js";
import {
  type CreateVisitorInput,
  createInput,
  type ListVisitorsInput,
  listInput,
  parse,
  parseTruncateLogs,
  type TruncateLogsOptions,
} from "./validation.js";
import { VisitLogWriter } from "./visit-log.js";
import type { Visitor, VisitorLog } from "./visitor.js";

/** Each event's handler, by name (see `VisitorPassEventMap` for what each is given). */
export type VisitorPassEvents = {
  [E in VisitorPassEventName]: VisitorPassEventHandler<E>;
};

/**
 * Options of `passes.purge()`.
 *
 * @example
 * ```ts
 * const purged = await passes.purge({
 *   before: new Date(Date.now() - 30 * 24 * 3600 * 1000), // expired over 30 days ago
 *   onProgress: (count) => console.log(`${count} passes purged so far`),
 * });
 * ```
 */
export interface PurgeOptions {
  /** Passes whose `expiresAt` is before this are deleted. @default now */
  before?: Date;
  /**
   * Called after each batch with the number deleted so far (batches of at most 250 passes, smaller
   * while one takes more than 40 ms, on SQLite its checkpoint included; the purge rests after
   * each batch as long as it took).
   */
  onProgress?: (purged: number) => void;
}

/** Expired pending self-service passes deleted at most per sweep (one statement). */
const SWEEP_BATCH = 100;
/** Milliseconds between two sweeps, unless the last one left more to delete. */
const SWEEP_INTERVAL_MS = 30_000;

const REFUSED = Object.freeze({ kind: "refused" as const });

const FLOW = Symbol("visitor-pass.flow");
/** The largest pass id: the column is a 32-bit integer on every database. */
const MAX_ID = 2_147_483_647;
const SELF_SERVICE = Symbol("visitor-pass.self-service");

/**
 * The pass service: create, look up and manage passes; the flow adapters run requests through.
 * It is handed what lives outside the core (`parts`: the store, the built-in confirmation page)
 * by the composition root, `createVisitorPass`.
 */
export class VisitorPass {
  readonly config: ResolvedConfig;
  readonly [FLOW]: VisitorFlow;
  readonly [SELF_SERVICE]: SelfServiceBackend;
  readonly #store: VisitorStore;
  readonly #records: PassRecords;
  readonly #visits: VisitLogWriter;
  readonly #events: PassEvents;
  readonly #throttles: Throttles;
  readonly #outbox: LinkOutbox | null;
  readonly #links: LinkSender;
  #warnedBaseUrl = false;
  readonly #freshLinks: FreshLinkSender;
  /** When the last sweep of expired pending passes started (epoch ms), and whether it left more. */
  #lastSweep = Number.NEGATIVE_INFINITY;
  #sweepBacklog = false;
  #sweepAgain = false;
  #sweeping: Promise<void> | null = null;
  #closed = false;

  constructor(options: VisitorPassOptions, parts: VisitorPassParts) {
    this.config = resolveConfig(options, parts.confirmPage, parts.freshLinkPage);
    // The one place `sendLink` is wrapped: whoever sends a link calls `config.sendLink`.
    this.#outbox = this.config.outbox ? new LinkOutbox(this.config.outbox.limit) : null;
    this.config.sendLink = withOutbox(this.config.sendLink, this.#outbox, this.config.now);
    this.#links = new LinkSender(this.config.sendLink, this.config.logger);
    this.#store = this.config.store ?? parts.openStore(this.config.database, this.config);
    const changedElsewhere = this.#store.changedElsewhere?.bind(this.#store);
    const cache =
      this.config.passCache && changedElsewhere
        ? new PassCache(changedElsewhere, { maxAge: this.#store.cacheMaxAge })
        : null;
    this.#records = new PassRecords(
      this.#store,
      new TokenKeys(this.config.tokenStorage),
      this.config.now,
      cache,
    );
    this.#events = new PassEvents(this.config.logger);
    const watch = new SharingWatch(this.#store, this.config.sharingThresholds, this.#events, (id) =>
      this.#records.findById(id),
    );
    this.#visits = new VisitLogWriter(this.#store, this.config, (batch, insert) =>
      watch.around(batch, insert),
    );
    this.#throttles = new Throttles(
      this.config.throttle,
      this.config.throttle && this.config.throttle.store === "database"
        ? this.#store.throttleStore?.()
        : undefined,
    );
    const throttledPage = throttledPageOf(this.config, parts);
    this.#freshLinks = new FreshLinkSender(
      this.config,
      this.#records,
      this.#throttles,
      this.#events,
      this.#links,
    );
    const throttle = (budget: Parameters<Throttles["consume"]>[0], ip: string | null) =>
      this.#throttles.consume(budget, ip);
    const backend: FlowBackend = {
      config: this.config,
      // On the request path a closed service is just a store that fails: requests get a 503.
      find: (token) => this.#records.find(token),
      cached: (key) => (this.#closed ? undefined : this.#records.cached(key)),
      sessionRef: (uuid) => this.#records.keyOf(uuid),
      isSessionRef: (value) => this.#records.keys.isKey(value),
      spendUse: (token) => this.#records.admit(token),
      recordVisit: this.config.logVisits
        ? (visitor, request, sessionId, status) =>
            this.#visits.record(visitor, request, sessionId, status)
        : () => {},
      logRefusal: this.config.logVisits ? () => this.#visits.refusal() : () => null,
      createPending: (scope, redirectTo, sessionExpiry) =>
        this.#createPending(scope, redirectTo, sessionExpiry),
      throttle,
      throttledPage,
      landingThrottled: async (ip) => {
        const retryAfter = await this.#throttles.consume("landing", ip, 0);
        if (retryAfter === null) return null;
        const error = new VisitorPassThrottled(retryAfter);
        const page = htmlPage(error.status, throttledPage(error.retryAfter));
        page.headers["Retry-After"] = String(error.retryAfter);
        return { kind: "throttled", error, page };
      },
      landingRefused: async (ip) => {
        await this.#throttles.consume("landing", ip);
        return REFUSED;
      },
      freshLinkThrottled: (ip) => this.#throttles.consume("freshLink", ip),
      sendFreshLink: (token, path) => {
        if (!this.#closed) this.#freshLinks.send(token, path);
      },
      admitted: (visitor, spent) => this.#events.fire("visitorAdmitted", { visitor, spent }),
      cleared: (visitor) => this.#events.fire("visitorCleared", visitor),
    };
    this[FLOW] = new VisitorFlow(backend);
    this[SELF_SERVICE] = {
      config: this.config,
      find: (token) => this.#records.find(token),
      claim: (pending, fields, extra) => this.#claim(pending, fields, extra),
      created: (visitor) => this.#events.fire("selfServiceVisitorCreated", visitor),
      sendLink: (visitor) => this.#sendSelfServiceLink(visitor),
      throttle,
    };
  }

  /**
   * Creates or updates the tables. Idempotent; safe to run at every start. Resolves to how many
   * migrations this call applied: 0 when the tables were already up to date.
   */
  async migrate(): Promise<number> {
    this.#open();
    return this.#store.migrate();
  }

  /** Creates a pass; throws `VisitorPassValidationError` (writing nothing) for bad input. */
  async create(input: CreateVisitorInput): Promise<Visitor> {
    const data = parse(createInput, input);
    const now = this.config.now();
    return this.#open().insert(randomUUID(), {
      firstName: data.firstName,
      lastName: data.lastName,
      email: data.email,
      scope: data.scope,
      context: data.context as Record<string, unknown> | null,
      createdAt: now,
      lastUpdatedAt: now,
      expiresAt: data.expiresAt === undefined ? this.#linkExpiry(now) : data.expiresAt,
      isActive: true,
      sessionExpiry:
        data.sessionExpiry === undefined ? this.config.sessionExpiry : data.sessionExpiry,
      maxUses: data.maxUses,
      uses: 0,
      ...(data.freshLinks ? { freshLinks: true } : {}),
    });
  }

  /**
   * The pass with this token, or `null`; throws `MalformedVisitorToken` for a non-uuid. With
   * `tokenStorage: "hash"`, the stored digest that `list()` shows is accepted too. The token of
   * a completed self-service form finds the pass it became (which has a token of its own, sent by
   * email: the form's token never admits). `deactivate`, `reactivate`, `logs`, `sharing` and
   * `visitsOverTime` name passes by the same rule.
   */
  async get(uuid: string): Promise<Visitor | null> {
    return this.#open().resolve(uuid);
  }

  /**
   * The pass with this `id`, or `null`. An id admits nobody, so it is what the admin pages put in
   * their URLs (a request logger then records nothing usable). Throws
   * `VisitorPassValidationError` for anything but a whole number from 1.
   */
  async getById(id: number): Promise<Visitor | null> {
    const records = this.#open();
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
      throw new VisitorPassValidationError({ id: ["Must be a pass id: a whole number from 1."] });
    }
    // Ids are 32-bit in every table: a larger one names no pass (PostgreSQL would refuse it).
    if (id > MAX_ID) return null;
    return records.findById(id);
  }

  /** `url` with `?<querystringKey>=<uuid>` added (replacing one already there), all else kept. */
  tokenise(url: string, visitorOrUuid: Visitor | string): string {
    const uuid = parseToken(
      typeof visitorOrUuid === "string" ? visitorOrUuid : visitorOrUuid?.uuid,
    );
    return addToken(String(url), this.config.querystringKey, uuid);
  }

  /**
   * Turns the pass off: its link and every session holding it stop working at once. Fires
   * `passDeactivated` when the pass was active.
   */
  async deactivate(uuid: string): Promise<Visitor | null> {
    let wasActive = false;
    const visitor = await this.#open().change(uuid, (current) => {
      wasActive = current.isActive;
      return { isActive: false, lastUpdatedAt: this.config.now() };
    });
    if (visitor && wasActive) this.#events.fire("passDeactivated", visitor);
    return visitor;
  }

  /**
   * Turns the pass back on, its link valid for another `tokenExpiry` seconds. Throws
   * `UnclaimedRequestError` (changing nothing) for a self-service request whose form was never
   * completed (`Visitor#isUnclaimedRequest`): it has no email, so it must never work; and
   * `PromotedPassError` for a pass promoted to an account (`Visitor#isPromoted`).
   */
  async reactivate(uuid: string): Promise<Visitor | null> {
    return this.#open().change(uuid, (visitor) => {
      // A request only ever becomes a claimed pass, never the reverse: no race to guard here.
      if (visitor.isUnclaimedRequest) throw new UnclaimedRequestError(visitor.id);
      // A promotion racing this one is safe too: a promoted pass never admits, active or not.
      if (visitor.isPromoted) throw new PromotedPassError(visitor.id);
      const now = this.config.now();
      return { isActive: true, expiresAt: this.#linkExpiry(now), lastUpdatedAt: now };
    });
  }

  /**
   * Marks the pass as converted: the visitor became the account `userId`. In one statement the
   * pass records `promotedTo` and `promotedAt` and is turned off, so its link and every session
   * holding it stop working at the next request, in every process (as `deactivate`); it never
   * admits again and `reactivate` refuses it. Its context and visit logs stay, for the app to
   * read (`promotedTo(userId)`, `logs(uuid)`). Returns the updated pass, or `null` when there
   * is none. Promoting it again to the same id changes nothing and returns it; to another id
   * throws `PassAlreadyPromoted`; a self-service request whose form was never completed throws
   * `UnclaimedRequestError`. Fires `visitorPromoted` once, when it promoted the pass. Throws
   * `MalformedVisitorToken` for a `uuid` that is not a token, and `VisitorPassValidationError`
   * for a `userId` that is not 1–255 characters of text (without control characters), writing
   * nothing.
   * @example
   * ```ts
   * app.post("/sign-up", async (req, res) => {
   *   const user = await users.create(req.body);
   *   if (req.visitor) await passes.promote(req.visitor.uuid, { userId: String(user.id) });
   *   res.redirect("/welcome");
   * });
   * ```
   */
  async promote(uuid: string, input: PromoteInput): Promise<Visitor | null> {
    const records = this.#open();
    records.keyOf(uuid);
    const { userId } = parsePromote(input);
    const result = await records.promote(uuid, userId, this.config.now(), (visitor) => {
      // A request becomes a claimed pass under a new token, never the reverse: if it is claimed
      // meanwhile, the update finds no row under this token and the call answers `null`.
      if (visitor.isUnclaimedRequest) {
        throw new UnclaimedRequestError(
          visitor.id,
          "This is a self-service request whose form was never completed: nobody was admitted with it, so there is no visitor to promote.",
        );
      }
    });
    if (!result) return null;
    if (result.outcome === "conflict") {
      throw new PassAlreadyPromoted(result.visitor.id, result.visitor.promotedTo ?? "");
    }
    if (result.outcome === "promoted") {
      this.#events.fire("visitorPromoted", { visitor: result.visitor, userId });
    }
    return result.visitor;
  }

  /**
   * The passes promoted to the account `userId` (`promote`), newest first, with their context:
   * what the app reads after sign-up. Their logs are `logs(visitor.uuid)` (or `searchLogs`
   * with `visitorId`). At most 1000; `passes.list({ promotedTo })` pages further.
   * @example
   * ```ts
   * const [visitor] = await passes.promotedTo(String(user.id));
   * const visits = visitor ? await passes.logs(visitor.uuid) : [];
   * ```
   */
  async promotedTo(userId: string): Promise<Visitor[]> {
    const { userId: id } = parsePromote({ userId });
    return this.list({ promotedTo: id, limit: 1000 });
  }

  /**
   * The visit logs of every pass, newest first, one page at a time, each with its pass's email
   * and scope: filtered by scope, pass (`uuid` or `visitorId`), email, time (`from` inclusive,
   * `to` exclusive) and status. Pages are at most 500 logs (default 50); `next` is where the
   * following page starts (`before`). Each page is one bounded query, however many logs there
   * are. Bad options throw `VisitorPassValidationError`.
   * @example
   * ```ts
   * const page = await passes.searchLogs({ scope: "REFERENCE_REQUEST", statusCode: 403 });
   * for (const log of page.logs) console.log(log.timestamp, log.email, log.requestUri);
   * const older = page.next ? await passes.searchLogs({ before: page.next }) : null;
   * ```
   */
  async searchLogs(options: SearchLogsOptions = {}): Promise<LogPage> {
    const { uuid, ...search } = parseSearchLogs(options);
    this.#open();
    if (uuid !== undefined) {
      const visitor = await this.get(uuid);
      if (!visitor || (search.visitorId !== undefined && search.visitorId !== visitor.id)) {
        return { logs: [], next: null };
      }
      search.visitorId = visitor.id;
    }
    await this.#visits.flush();
    const rows = await this.#store.searchLogs({ ...search, limit: search.limit + 1 });
    const logs = rows.slice(0, search.limit);
    const last = logs.at(-1);
    return { logs, next: rows.length > search.limit && last ? logCursor(last) : null };
  }

  /** The pass's visit logs, newest first (visits still being written are waited for). */
  async logs(uuid: string): Promise<VisitorLog[]> {
    const visitor = await this.get(uuid);
    if (!visitor) return [];
    await this.#visits.flush();
    return this.#store.logs(visitor.id);
  }

  /**
   * Passes, newest first, filtered by scope, activity, validity (`valid`: active and unexpired
   * now; `false`: inactive or expired) and a search over names, email and scope.
   */
  async list(filter: ListVisitorsInput = {}): Promise<Visitor[]> {
    const data = parse(listInput, filter);
    return this.#open().list({ ...data, now: this.config.now() });
  }

  /** How many passes `list()` would find with `filter`, paging aside: for pagination. */
  async count(filter: CountVisitorsInput = {}): Promise<number> {
    const data = parseCountFilter(filter);
    this.#open();
    return this.#store.count({ ...data, now: this.config.now() });
  }

  /**
   * What the visits of one pass say about whether its link was shared: distinct sessions,
   * client networks and browser families, first and last visit, and whether any count is more
   * than its `sharingThresholds`. `null` for an unknown pass; zeros for one without visits.
   */
  async sharing(uuid: string): Promise<SharingSignals | null> {
    const visitor = await this.get(uuid);
    if (!visitor) return null;
    await this.#visits.flush();
    const counts = await this.#store.sharingCounts(visitor.id);
    return sharingSignals(
      { uuid: visitor.uuid, visitorId: visitor.id, email: visitor.email, scope: visitor.scope },
      counts,
      this.config.sharingThresholds,
    );
  }

  /**
   * The sharing signals of every pass with at least one visit (since `since`; the counts then
   * cover those visits only), in one query: flagged passes first, then the most sessions, then
   * the latest last visit. At most `limit` (default 100, at most 1000) from `offset`. Bad options
   * throw `VisitorPassValidationError`.
   */
  async sharingReport(options: SharingReportOptions = {}): Promise<SharingSignals[]> {
    const data = parseSharingReportOptions(options);
    this.#open();
    await this.#visits.flush();
    const thresholds = this.config.sharingThresholds;
    const rows = await this.#store.sharingReport({
      since: data.since,
      scope: data.scope,
      flaggedOnly: data.flaggedOnly ?? false,
      thresholds,
      limit: data.limit,
      offset: data.offset,
    });
    return rows.map((row) => sharingSignals(row, row, thresholds));
  }

  /**
   * Visits per UTC day over the last `days` days (default 30, at most 366), today included,
   * oldest first, every day present (0 when there were none); of the pass `uuid`, or of all.
   */
  async visitsOverTime(options: VisitsOverTimeOptions = {}): Promise<DailyVisits[]> {
    const { uuid, days } = parseVisitsOverTimeOptions(options);
    const now = this.config.now();
    let visitorId: number | undefined;
    if (uuid !== undefined) {
      const visitor = await this.get(uuid);
      if (!visitor) return fillDays(now, days, new Map());
      visitorId = visitor.id;
    }
    this.#open();
    await this.#visits.flush();
    const today = utcDay(now);
    const counts = await this.#store.visitsPerDay({
      visitorId,
      from: new Date(today - (days - 1) * DAY_MS),
      to: new Date(today + DAY_MS),
    });
    return fillDays(now, days, counts);
  }

  /**
   * Visits per pass for passes' `id`s, in one query: for list pages. Every id is in the map,
   * with 0 when the pass has no visits (or does not exist).
   */
  async visitCounts(visitorIds: number[]): Promise<Map<number, number>> {
    const ids = parseVisitorIds(visitorIds);
    this.#open();
    if (ids.length === 0) return new Map();
    await this.#visits.flush();
    return this.#store.visitCounts(ids);
  }

  /** Deletes passes whose `expiresAt` is before `before` (default now), with their logs. */
  async purge(options: PurgeOptions = {}): Promise<number> {
    this.#open();
    const before = options.before ?? this.config.now();
    if (!(before instanceof Date) || Number.isNaN(before.getTime())) {
      throw new VisitorPassValidationError({ before: ["Must be a date."] });
    }
    await this.#visits.flush();
    try {
      return await this.#store.purge(before, { onBatch: options.onProgress });
    } finally {
      this.#records.forgetAll();
    }
  }

  /**
   * Deletes visit logs, keeping every pass: those older than `before`, those beyond the newest
   * `keep` of each pass, or with both, those that are older than `before` and beyond the newest
   * `keep`. Returns the count. It deletes in batches (at most 250 logs, smaller while one takes
   * more than 40 ms, resting after each as long as it took), so that requests are never held
   * long, even on a large table. Throws `VisitorPassValidationError`, deleting nothing, for a
   * `before` that is not a date, a `keep` that is not a whole number from 0, or neither given.
   * @example
   * ```ts
   * // Logs of the last 90 days, and at least the 20 newest of each pass whatever their age.
   * await passes.truncateLogs({ before: new Date(Date.now() - 90 * 86_400_000), keep: 20 });
   * ```
   */
  async truncateLogs(options: TruncateLogsOptions): Promise<number> {
    this.#open();
    const { before, keep, onProgress } = parseTruncateLogs(options);
    await this.#visits.flush();
    return this.#store.truncateLogs(
      { ...(before ? { before } : {}), ...(keep !== undefined ? { keep } : {}) },
      onProgress ? { onBatch: onProgress } : {},
    );
  }

  /**
   * Subscribes `handler` to `event` (see `VisitorPassEventMap` for each event and what its
   * handler is given); returns a function that unsubscribes it. Handlers run after the request
   * that caused the event has done its work, which never waits for them; one that throws or
   * rejects is reported through `logger` and fails nothing.
   * @example
   * ```ts
   * passes.on("selfServiceVisitorCreated", async (visitor) => {
   *   await mailer.send(visitor.email, passes.tokenise("https://app.example/reference", visitor));
   * });
   * passes.on("visitorAdmitted", ({ visitor, spent }) => metrics.count("landing", { spent }));
   * passes.on("passFlaggedShared", ({ visitor, signals }) => alert(visitor.email, signals.reasons));
   * ```
   */
  on<E extends VisitorPassEventName>(event: E, handler: VisitorPassEventHandler<E>): () => void {
    return this.#events.on(event, handler);
  }

  /** Unsubscribes `handler` from `event` (nothing happens when it was not subscribed). */
  off<E extends VisitorPassEventName>(event: E, handler: VisitorPassEventHandler<E>): void {
    this.#events.off(event, handler);
  }

  /**
   * Calls every handler of `event` in turn, waiting for each, and rejects with a handler's error:
   * for an app that raises an event itself (the package's own events never wait on handlers).
   */
  emit<E extends VisitorPassEventName>(event: E, payload: VisitorPassEventMap[E]): Promise<void> {
    return this.#events.emit(event, payload);
  }

  /**
   * The links the development outbox holds (the `outbox` option), newest first: each one handed
   * to `sendLink`, or that would have been had there been one. Empty when the outbox is off.
   * @example
   * ```ts
   * const passes = createVisitorPass({ outbox: true, baseUrl: "http://localhost:3000" });
   * // … a visitor completes the self-service form …
   * const [latest] = passes.sentLinks(); // { to, reason: "selfService", url, at }
   * ```
   */
  sentLinks(): OutboxEntry[] {
    return this.#outbox?.entries() ?? [];
  }

  /** Writes the visit logs still queued (they are written in batches, a few ms apart). */
  flush(): Promise<void> {
    return this.#visits.flush();
  }

  /**
   * Writes the queued visit logs, then releases the database (unless the app owns it). Call it on
   * shutdown: visits accepted before it are not lost. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A pool's first query after an outage may still meet a dead connection: try a few times.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      await this.#visits.flush();
      if (this.#visits.pending === 0) break;
    }
    await this.#sweeping;
    // Links being prepared (a fresh link's pass renewed) and sent finish first, then the
    // handlers they fired; handlers still running (an email being sent) finish before the store
    // goes, and any link they sent.
    await this.#links.settled();
    await this.#events.settled();
    await this.#links.settled();
    if (this.#visits.pending > 0) {
      this.config.logger.error(
        `visitor-pass: closing with ${this.#visits.pending} visit logs the database would not take`,
      );
    }
    await this.#store.close();
  }

  #open(): PassRecords {
    if (this.#closed) {
      throw new VisitorPassError("This VisitorPass has been closed.", "VISITOR_PASS_CLOSED");
    }
    return this.#records;
  }

  async #createPending(
    scope: string,
    redirectTo: string,
    sessionExpiry: number | null | undefined,
  ): Promise<Visitor> {
    const now = this.config.now();
    // On the request path a closed service is a store that fails: the guard answers 503.
    if (this.#closed) throw new VisitorPassUnavailable({ cause: new Error("closed") });
    const visitor = await this.#records.insert(randomUUID(), {
      firstName: "",
      lastName: "",
      email: "",
      scope,
      context: { selfService: true, redirectTo },
      createdAt: now,
      lastUpdatedAt: now,
      expiresAt: this.#linkExpiry(now),
      isActive: false,
      sessionExpiry: sessionExpiry === undefined ? this.config.sessionExpiry : sessionExpiry,
      maxUses: null,
      uses: 0,
    });
    // Once the pass is stored, not beside its insert: on MySQL the sweep's range delete locks
    // the gaps the insert would write into, and the request would wait on it.
    this.#sweepPending(now);
    return visitor;
  }

  /**
   * Deletes a bounded batch of expired pending passes, beside the request that creates one (which
   * does not wait for it): at most one sweep at a time, and at most one every
   * `SWEEP_INTERVAL_MS` unless the last one left more, so that anonymous requests cannot fill the
   * table with passes nobody completed, and nobody needs to purge for that.
   */
  #sweepPending(now: Date): void {
    const at = now.getTime();
    // A clock set back (tests do) starts the interval again.
    const due =
      this.#sweepBacklog || at - this.#lastSweep >= SWEEP_INTERVAL_MS || at < this.#lastSweep;
    if (!due) return;
    // Due while one is still running: once more when it ends, so that none is skipped.
    if (this.#sweeping) this.#sweepAgain = true;
    else this.#startSweep(now);
  }

  #startSweep(now: Date): void {
    this.#lastSweep = now.getTime();
    this.#sweeping = this.#store
      .deleteExpiredPending(now, SWEEP_BATCH)
      .then(
        (deleted) => {
          this.#sweepBacklog = deleted >= SWEEP_BATCH;
          if (deleted > 0) this.#records.forgetAll();
        },
        () => {
          // A failing store fails the requests themselves; the sweep just tries again later.
          this.#sweepBacklog = false;
        },
      )
      .finally(() => {
        this.#sweeping = null;
        if (this.#sweepAgain && !this.#closed) {
          this.#sweepAgain = false;
          this.#startSweep(this.config.now());
        }
      });
  }

  #claim(
    pending: Visitor,
    fields: SelfServiceFields,
    extra: Readonly<Record<string, unknown>> = {},
  ): Promise<Visitor | null> {
    const now = this.config.now();
    return this.#open().claim(pending.uuid, randomUUID(), {
      ...fields,
      // The package's own keys (`selfService`, `redirectTo`, `claimedAt`) win over the form's.
      context: { ...extra, ...pending.context, claimedAt: now.toISOString() },
      expiresAt: this.#linkExpiry(now),
      lastUpdatedAt: now,
    });
  }

  /** The claimed pass's link, on `baseUrl` and the page the visitor was going to, to `sendLink`. */
  #sendSelfServiceLink(visitor: Visitor): void {
    if (!this.#links.enabled) return;
    const base = this.config.baseUrl;
    if (base === null) {
      if (!this.#warnedBaseUrl) {
        this.#warnedBaseUrl = true;
        this.config.logger.warn(
          "visitor-pass: no self-service link was sent: set the baseUrl option (the app's origin) so that links can be built",
        );
      }
      return;
    }
    const target = visitor.context?.redirectTo;
    // A stored path of this site only (the guard keeps it so): never another origin.
    const path =
      typeof target === "string" && target.startsWith("/") && !target.startsWith("//")
        ? target
        : "/";
    const resolved = new URL(path, base);
    // `/\host` is another origin to a URL parser: the site's root then, never elsewhere.
    const url = resolved.origin === base ? resolved : new URL("/", base);
    this.#links.send({ visitor, url: this.tokenise(url.href, visitor), reason: "selfService" });
  }

  #linkExpiry(from: Date): Date {
    return new Date(from.getTime() + this.config.tokenExpiry * 1000);
  }
}

/** The request flow of `passes`, for adapters; a clear error when `passes` is something else. */
export function flowOf(passes: VisitorPass, caller: string): VisitorFlow {
  const flow = (passes as Partial<VisitorPass> | undefined)?.[FLOW];
  if (!flow) {
    throw new VisitorPassError(
      `${caller} needs the object createVisitorPass() returned, e.g. ${caller.replace("()", "(passes)")}.`,
      "VISITOR_PASS_SETUP",
    );
  }
  return flow;
}

/** The self-service backend of `passes`, for the self-service pages of each adapter. */
export function selfServiceOf(passes: VisitorPass, caller: string): SelfServiceBackend {
  flowOf(passes, caller);
  return passes[SELF_SERVICE];
}

/** The 429 page: the app's (`throttledPage` option), else the built-in one. */
function throttledPageOf(
  config: ResolvedConfig,
  parts: VisitorPassParts,
): (retryAfter: number) => string {
  const own = config.throttledPage;
  return own ? (retryAfter) => own({ retryAfter }) : parts.throttledPage;
}
