import { randomUUID } from "node:crypto";
import type { VisitorPassLogger } from "../../core/config.js";
import { VisitorPassError } from "../../core/errors.js";
import type { VisitorPassEventName } from "../../core/events.js";
import type { VisitorPass } from "../../core/visitor-pass.js";
import {
  type ResolvedWebhookOptions,
  resolveWebhookOptions,
  type WebhookOptions,
} from "./webhook-options.js";
import { webhookPayload } from "./webhook-payload.js";
import { secretKey, signature } from "./webhook-signature.js";

/** What a webhook sender has done so far. */
export interface WebhookStats {
  /** Events a receiver accepted (a 2xx). */
  delivered: number;
  /** Events given up on: refused (another status), or still failing after every retry. */
  failed: number;
  /** Events dropped unsent: by a full queue, or still queued when `close()` ran out of time. */
  dropped: number;
}

/** The handle `sendWebhooks` returns. */
export interface WebhookSender {
  /** Events queued or being sent. */
  readonly pending: number;
  readonly stats: Readonly<WebhookStats>;
  /**
   * Stops listening, then sends what is queued for at most `closeTimeout` milliseconds (retries
   * included), and drops the rest (the logger is told how many). Idempotent.
   */
  close(): Promise<void>;
}

interface Delivery {
  id: string;
  type: string;
  body: string;
}

type Outcome =
  | { kind: "delivered" }
  | { kind: "retry"; reason: string; retryAfter: number | null }
  | { kind: "refused"; reason: string };

/**
 * Sends the pass service's events to a URL as signed webhooks (Standard Webhooks): each event a
 * POST of JSON `{ type, timestamp, data }` with the headers `webhook-id` (the same on every retry
 * of one event), `webhook-timestamp` (seconds) and `webhook-signature` (`v1,` and the base64 of
 * the HMAC-SHA256 of `id.timestamp.body`). An event is queued when it fires, so no request waits
 * for it; the queue (`queueLimit`) is sent in order, one at a time. A network error, a timeout, a
 * 5xx, 408 or 429 is retried up to `retries` times after an exponential, jittered delay
 * (`Retry-After` honoured up to `maxRetryDelay`); another status is given up on. What is dropped
 * or given up on is reported through the passes' `logger`. The payload's visitor has no token
 * (`uuid`) unless `includeToken` is set: its `id` names the pass.
 *
 * Call `close()` on shutdown, before `passes.close()`.
 *
 * @example
 * ```ts
 * import { closeGracefully, createVisitorPass, handleSignals, sendWebhooks } from "visitor-pass";
 *
 * const passes = createVisitorPass();
 * const webhooks = sendWebhooks(passes, {
 *   url: "https://hooks.example.org/visitor-pass",
 *   secret: process.env.WEBHOOK_SECRET!, // whsec_<base64>
 *   events: ["selfServiceVisitorCreated", "passDeactivated", "passFlaggedShared"],
 * });
 * handleSignals(() =>
 *   closeGracefully(server, { close: async () => (await webhooks.close(), passes.close()) }),
 * );
 * ```
 */
export function sendWebhooks(passes: VisitorPass, options: WebhookOptions): WebhookSender {
  const logger = (passes as Partial<VisitorPass> | undefined)?.config?.logger;
  if (!logger || typeof (passes as VisitorPass).on !== "function") {
    throw new VisitorPassError(
      "sendWebhooks() needs the object createVisitorPass() returned, e.g. sendWebhooks(passes, { url, secret }).",
      "VISITOR_PASS_SETUP",
    );
  }
  const resolved = resolveWebhookOptions(options);
  const sender = new Sender(resolved, secretKey(options.secret), logger, () => passes.config.now());
  const offs = resolved.events.map((event) =>
    passes.on(event as VisitorPassEventName, (payload: unknown) => sender.enqueue(event, payload)),
  );
  return {
    get pending() {
      return sender.pending;
    },
    get stats() {
      return { ...sender.stats };
    },
    close: () =>
      sender.close(() => {
        for (const off of offs) off();
      }),
  };
}

class Sender {
  readonly stats: WebhookStats = { delivered: 0, failed: 0, dropped: 0 };
  readonly #queue: Delivery[] = [];
  readonly #deadline = new AbortController();
  #sending = false;
  #running: Promise<void> | null = null;
  #closing: Promise<void> | null = null;

  constructor(
    readonly options: ResolvedWebhookOptions,
    readonly key: Buffer,
    readonly logger: VisitorPassLogger,
    readonly now: () => Date,
  ) {}

  get pending(): number {
    return this.#queue.length + (this.#sending ? 1 : 0);
  }

  enqueue(type: string, payload: unknown): void {
    if (this.#closing) return;
    let body: string;
    try {
      body = JSON.stringify(webhookPayload(type, payload, this.now(), this.options.includeToken));
    } catch (error) {
      this.#report("error", `could not serialise a "${type}" event: ${describe(error)}`);
      return;
    }
    const delivery = { id: `msg_${randomUUID()}`, type, body };
    if (this.#queue.length >= this.options.queueLimit) {
      const dropped = this.options.drop === "oldest" ? this.#queue.shift() : delivery;
      this.stats.dropped++;
      this.#report(
        "warn",
        `the queue is full (${this.options.queueLimit}): dropped the ${this.options.drop} event, "${dropped?.type}" ${dropped?.id}`,
      );
      if (dropped === delivery) return;
    }
    this.#queue.push(delivery);
    this.#kick();
  }

  close(unsubscribe: () => void): Promise<void> {
    this.#closing ??= (async () => {
      unsubscribe();
      const timer = setTimeout(() => this.#deadline.abort(), this.options.closeTimeout);
      try {
        while (this.#running) await this.#running;
      } finally {
        clearTimeout(timer);
      }
      const left = this.#queue.length;
      if (left > 0) {
        this.stats.dropped += left;
        this.#queue.length = 0;
        this.#report("error", `closing with ${left} events not sent`);
      }
    })();
    return this.#closing;
  }

  #kick(): void {
    if (this.#running || this.#deadline.signal.aborted) return;
    this.#running = this.#work().finally(() => {
      this.#running = null;
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #work(): Promise<void> {
    while (this.#queue.length > 0 && !this.#deadline.signal.aborted) {
      const delivery = this.#queue.shift()!;
      this.#sending = true;
      try {
        await this.#deliver(delivery);
      } finally {
        this.#sending = false;
      }
    }
  }

  async #deliver(delivery: Delivery): Promise<void> {
    const { retries } = this.options;
    let last = "";
    for (let attempt = 0; attempt <= retries; attempt++) {
      const outcome = await this.#attempt(delivery);
      if (outcome.kind === "delivered") {
        this.stats.delivered++;
        return;
      }
      if (outcome.kind === "refused") {
        this.stats.failed++;
        this.#report("error", `"${delivery.type}" ${delivery.id} refused: ${outcome.reason}`);
        return;
      }
      last = outcome.reason;
      if (attempt === retries) break;
      await this.#sleep(outcome.retryAfter ?? this.#backoff(attempt));
      if (this.#deadline.signal.aborted) {
        this.stats.dropped++;
        this.#report("error", `"${delivery.type}" ${delivery.id} not sent before close: ${last}`);
        return;
      }
    }
    this.stats.failed++;
    this.#report(
      "error",
      `"${delivery.type}" ${delivery.id} given up after ${retries + 1} attempts: ${last}`,
    );
  }

  async #attempt(delivery: Delivery): Promise<Outcome> {
    const timestamp = Math.floor(Date.now() / 1000);
    const signal = AbortSignal.any([
      AbortSignal.timeout(this.options.timeout),
      this.#deadline.signal,
    ]);
    let response: Response;
    try {
      response = await this.options.fetch(this.options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "visitor-pass-webhooks",
          "webhook-id": delivery.id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": signature(this.key, delivery.id, timestamp, delivery.body),
        },
        body: delivery.body,
        redirect: "manual",
        signal,
      });
    } catch (error) {
      return { kind: "retry", reason: describe(error), retryAfter: null };
    }
    // Nothing of the answer is read but its status: the connection is freed at once.
    await response.body?.cancel().catch(() => {});
    const status = response.status;
    if (status >= 200 && status < 300) return { kind: "delivered" };
    if (status === 408 || status === 429 || status >= 500) {
      return {
        kind: "retry",
        reason: `answered ${status}`,
        retryAfter: retryAfterMs(response.headers.get("retry-after"), this.options.maxRetryDelay),
      };
    }
    return { kind: "refused", reason: `answered ${status}` };
  }

  /** Exponential with "equal jitter": half the doubled delay, plus up to as much again at random. */
  #backoff(attempt: number): number {
    const ceiling = Math.min(this.options.maxRetryDelay, this.options.retryDelay * 2 ** attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** Waits `ms`, or less once `close()` ran out of time. */
  #sleep(ms: number): Promise<void> {
    const signal = this.#deadline.signal;
    if (signal.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  #report(level: "warn" | "error", message: string): void {
    try {
      this.logger[level](`visitor-pass: webhooks: ${message}`);
    } catch {
      // A logger that throws must not stop the queue.
    }
  }
}

/** `Retry-After` (seconds, or an HTTP date) in milliseconds, at most `max`; `null` without one. */
export function retryAfterMs(value: string | null, max: number): number | null {
  if (value === null || value.trim() === "") return null;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - Date.now();
  if (!Number.isFinite(ms)) return null;
  return Math.min(Math.max(ms, 0), max);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}
