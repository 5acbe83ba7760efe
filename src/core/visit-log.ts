import { randomUUID } from "node:crypto";
import type { ResolvedConfig } from "./config.js";
import { VisitorPassUnavailable } from "./errors.js";
import { loggedAddress } from "./network.js";
import type { NewVisitorLog, VisitLogStore, VisitRequest } from "./ports.js";
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
/** Most characters of a path, a query string or a Referer that a visit log keeps. */
export const LOGGED_URL_LENGTH = 2000;
/** How often (ms) a failure that lasts is reported again, with the visits it affected so far. */
const REPORT_EVERY = 60_000;

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
  /** While writes fail: what is reported about it. */
  #failure: LogFailure | null = null;

  /**
   * `around`: writes each batch through it (given the batch and the insert to run), so that
   * something can look at the passes a batch concerns just before and after it is written.
   */
  constructor(
    readonly store: VisitLogStore,
    readonly config: ResolvedConfig,
    readonly around?: (
      batch: readonly NewVisitorLog[],
      insert: () => Promise<void>,
    ) => Promise<void>,
  ) {}

  /**
   * With `onLogFailure: "refuse"`, while visit logs cannot be written: the error a guarded visit
   * that would be logged is refused with. `null` otherwise (one comparison on the request path).
   */
  refusal(): VisitorPassUnavailable | null {
    if (this.#failure === null || this.config.onLogFailure !== "refuse") return null;
    return new VisitorPassUnavailable({ cause: this.#failure.error });
  }

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
      requestUri: clip(pathOf(url), LOGGED_URL_LENGTH) || "/",
      queryString: clip(queryWithout(url, key), LOGGED_URL_LENGTH),
      httpUserAgent: userAgent,
      httpReferer: referer === null ? null : clip(stripToken(referer, key), LOGGED_URL_LENGTH),
      remoteAddr,
      statusCode: status,
      timestamp: this.config.now(),
      clientNetwork: signals.clientNetwork,
      browserFamily: signals.browserFamily,
      // Given when its batch is first written (`#write`): off the request path.
      idempotencyKey: null,
    });
    // Counted here, reported with the next write attempt: one line per attempt (at most one a
    // second while the database is away), not one per request.
    if (this.#queue.length > MAX_HELD) {
      this.#dropped += this.#queue.splice(0, this.#queue.length - MAX_HELD).length;
    }
    if (this.#failure) this.#failure.served += 1;
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
    const batch = this.#queue.splice(0, BATCH_SIZE);
    giveKeys(batch);
    try {
      await (this.around ? this.around(batch, () => this.#insert(batch)) : this.#insert(batch));
      this.#retrying = false;
      this.#recovered();
      return true;
    } catch (error) {
      this.#retrying = true;
      this.#queue.unshift(...batch);
      this.#failed(error);
      this.#schedule(RETRY_DELAY);
      return false;
    }
  }

  async #insert(batch: NewVisitorLog[]): Promise<void> {
    const refused = await this.store.insertLogs(batch);
    if (refused > 0) {
      this.config.logger.error(
        `visitor-pass: dropped ${refused} visit logs whose pass no longer exists`,
      );
    }
  }

  /**
   * A write failed: reported once when the failure starts, then every `REPORT_EVERY` ms with
   * the count of visits it affected, rather than once per attempt.
   */
  #failed(error: unknown): void {
    const now = performance.now();
    const failure = this.#failure;
    if (failure) {
      failure.error = error;
      failure.dropped += this.#takeDropped();
      if (now - failure.reportedAt < REPORT_EVERY) return;
      failure.reportedAt = now;
      this.config.logger.error(
        `visitor-pass: visit logs still cannot be written (${describe(error)}): ${this.#affected(failure)}`,
      );
      return;
    }
    this.#failure = {
      error,
      reportedAt: now,
      served: this.#queue.length,
      dropped: this.#takeDropped(),
    };
    const consequence =
      this.config.onLogFailure === "refuse"
        ? "guarded visits that log are refused (503) until a write succeeds"
        : `visits are served unlogged meanwhile, held to be written later (at most ${MAX_HELD}; beyond, the oldest are dropped)`;
    this.config.logger.error(
      `visitor-pass: cannot write visit logs (${describe(error)}); ${consequence}`,
    );
  }

  /** A write succeeded: the end of a failure is reported, with the visits it affected. */
  #recovered(): void {
    const failure = this.#failure;
    if (!failure) return;
    this.#failure = null;
    failure.dropped += this.#takeDropped();
    this.config.logger.warn(
      `visitor-pass: visit logs are written again; during the failure ${this.#affected(failure)}`,
    );
  }

  #affected(failure: LogFailure): string {
    const held = Math.max(0, failure.served - failure.dropped);
    return `${failure.served} visits were served unlogged (${held} held to be written, ${failure.dropped} dropped)`;
  }

  #takeDropped(): number {
    const dropped = this.#dropped;
    this.#dropped = 0;
    return dropped;
  }
}

interface LogFailure {
  /** The last write's error. */
  error: unknown;
  /** When (`performance.now()`) the failure was last reported. */
  reportedAt: number;
  /** Visits recorded since the failure began, those queued when it began included. */
  served: number;
  /** Of those, how many were dropped (beyond `MAX_HELD`). */
  dropped: number;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const root = cause instanceof Error ? cause : error;
  const code = (root as { code?: unknown } | null)?.code;
  const message = root instanceof Error ? root.message : String(root);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Gives each visit of `batch` that has none its idempotency key, kept on the row: written again
 * after a lost reply, the visit is stored once all the same. The keys are UUIDv7s (the time in
 * ms, then random bits), so that they follow the order of the visits and the unique index on
 * them grows at its end, as the log table does, rather than at random places. One random UUID
 * serves a batch: the last four hex digits number its rows (a batch holds at most
 * `BATCH_SIZE`), which keeps the request path free of it.
 */
function giveKeys(batch: NewVisitorLog[]): void {
  let base: string | null = null;
  for (let i = 0; i < batch.length; i++) {
    const log = batch[i]!;
    if (log.idempotencyKey) continue;
    base ??= batchKey();
    log.idempotencyKey = base + i.toString(16).padStart(4, "0");
  }
}

/** A UUIDv7 without its last four hex digits. */
function batchKey(): string {
  const time = Date.now().toString(16).padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15, 32)}`;
}

function clip<T extends string | null>(value: T, length: number): T {
  return (value !== null && value.length > length ? value.slice(0, length) : value) as T;
}
