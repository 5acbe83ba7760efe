import { randomUUID } from "node:crypto";
import type { NewVisitorLog, VisitorStore } from "../store/store.js";
import type { ResolvedConfig } from "./config.js";
import type { VisitRequest } from "./flow.js";
import { loggedAddress } from "./network.js";
import { visitSignals } from "./sharing.js";
import { pathOf, queryWithout, stripToken } from "./tokens.js";
import type { Visitor } from "./visitor.js";

/**
 * How long a visit waits for others to share its insert, in milliseconds. Each commit costs far
 * more than a row (SQLite: its locks and the pages it appends to the write-ahead log, ~0.5 ms
 * under load); 50 ms instead of 20 saved 17–24 µs of CPU per logged request (bench/README.md),
 * and 100 ms nothing more.
 */
const BATCH_DELAY = 50;
/** Most visits written by one insert. */
const BATCH_SIZE = 250;
/** Most visits held while the database cannot take them; beyond, the oldest are dropped. */
const MAX_HELD = 50_000;
/** How soon a failed write is tried again, in milliseconds. */
const RETRY_DELAY = 1_000;

/**
 * Writes visit logs off the request path, in batches: each response only queues its row, and one
 * multi-row insert writes what gathered in the last 50 ms. Reading logs, purging and
 * closing flush first, so an accepted visit is never lost to a graceful shutdown; while the
 * database is away, rows are held (up to a bound) and written when it returns.
 */
export class VisitLogWriter {
  #queue: NewVisitorLog[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerDelay = 0;
  /** The last write failed: a retry is scheduled. */
  #retrying = false;
  #draining: Promise<void> | null = null;
  /** Rows dropped (the oldest, beyond `MAX_HELD`) since the last report. */
  #dropped = 0;

  constructor(
    readonly store: VisitorStore,
    readonly config: ResolvedConfig,
  ) {}

  /** Queues one guarded visit. Never throws; never waits. */
  record(visitor: Visitor, request: VisitRequest, sessionId: string | null, status: number): void {
    const { querystringKey: key, anonymizeIp } = this.config;
    const { url, referer } = request;
    const remoteAddr = clip(loggedAddress(request.ip, anonymizeIp), 64);
    const userAgent = clip(request.userAgent, 1000);
    // The sharing signals, from what the log keeps: no network when the address is dropped,
    // the truncated network itself when it is truncated.
    const signals = visitSignals(remoteAddr, userAgent);
    this.#queue.push({
      visitorId: visitor.id,
      sessionKey: clip(sessionId, 255),
      httpMethod: clip(request.method.toUpperCase(), 16),
      requestUri: clip(pathOf(url), 2000) || "/",
      queryString: clip(queryWithout(url, key), 2000),
      httpUserAgent: userAgent,
      httpReferer: referer === null ? null : clip(stripToken(referer, key), 2000),
      remoteAddr,
      statusCode: status,
      timestamp: this.config.now(),
      clientNetwork: signals.clientNetwork,
      browserFamily: signals.browserFamily,
      // Written again after a lost reply, the visit is stored once all the same.
      idempotencyKey: visitKey(),
    });
    // Counted here, reported with the next write attempt: one line per attempt (at most one a
    // second while the database is away), not one per request.
    if (this.#queue.length > MAX_HELD) {
      this.#dropped += this.#queue.splice(0, this.#queue.length - MAX_HELD).length;
    }
    // While the database is away, the retry timer alone decides when to try again.
    if (!this.#retrying) this.#schedule(this.#queue.length >= BATCH_SIZE ? 0 : BATCH_DELAY);
  }

  /**
   * Writes everything queued so far. Resolves once it is written, or once a write has failed
   * (the rows then stay queued and are tried again later).
   */
  flush(): Promise<void> {
    this.#cancel();
    // One drain at a time: concurrent flushes share it, so that none returns while another's
    // insert is still in flight.
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = null;
    });
    return this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      if (!(await this.#write())) return;
    }
  }

  /** Rows still waiting to be written. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Writes in `delay` ms, unless a write is already due as soon or sooner. */
  #schedule(delay: number): void {
    if (this.#timer && (delay > 0 || this.#timerDelay === 0)) return;
    this.#cancel();
    this.#timerDelay = delay;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, delay);
    this.#timer.unref?.();
  }

  #cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** One insert of the oldest rows; false when the database could not take it. */
  async #write(): Promise<boolean> {
    if (this.#dropped > 0) {
      console.error(
        `visitor-pass: dropped ${this.#dropped} visit logs the database could not take (at most ${MAX_HELD} are held)`,
      );
      this.#dropped = 0;
    }
    const batch = this.#queue.splice(0, BATCH_SIZE);
    try {
      await this.#insert(batch);
      this.#retrying = false;
      return true;
    } catch (error) {
      this.#retrying = true;
      this.#queue.unshift(...batch);
      console.error(`visitor-pass: could not write visit logs: ${(error as Error).message}`);
      this.#schedule(RETRY_DELAY);
      return false;
    }
  }

  async #insert(batch: NewVisitorLog[]): Promise<void> {
    const refused = await this.store.insertLogs(batch);
    if (refused > 0) {
      console.error(`visitor-pass: dropped ${refused} visit logs whose pass no longer exists`);
    }
  }
}

/**
 * A random id for one visit: a UUIDv7 (the time in ms, then 74 random bits), so that keys follow
 * the order of the visits and the unique index on them grows at its end, as the log table does,
 * rather than at random places.
 */
function visitKey(): string {
  const time = Date.now().toString(16).padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}

function clip<T extends string | null>(value: T, length: number): T {
  return (value !== null && value.length > length ? value.slice(0, length) : value) as T;
}
