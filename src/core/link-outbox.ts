import type { VisitorPassLogger } from "./config.js";
import type { LinkMessage, LinkReason, SendLink } from "./send-link.js";

/** One link the development outbox kept: where it went, why, what it was and when. */
export interface OutboxEntry {
  /** The address it was sent to (`visitor.email`). */
  to: string;
  reason: LinkReason;
  /** The link itself: it admits whoever opens it. */
  url: string;
  /** When it was handed to `sendLink`. */
  at: Date;
}

/** The last `limit` links handed to `sendLink`, newest first, in this process's memory. */
export class LinkOutbox {
  readonly #limit: number;
  readonly #entries: OutboxEntry[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  record(message: LinkMessage, at: Date): void {
    this.#entries.unshift({
      to: message.visitor.email,
      reason: message.reason,
      url: message.url,
      at,
    });
    if (this.#entries.length > this.#limit) this.#entries.length = this.#limit;
  }

  /** The entries, newest first (a copy). */
  entries(): OutboxEntry[] {
    return this.#entries.map((entry) => ({ ...entry }));
  }
}

/**
 * The one place the app's `sendLink` is wrapped: with the outbox on, every link is recorded
 * first (and the app's own `sendLink`, if any, then called), so that `config.sendLink` is set
 * even when the app gave none.
 */
export function withOutbox(
  sendLink: SendLink | null,
  outbox: LinkOutbox | null,
  now: () => Date,
): SendLink | null {
  if (!outbox) return sendLink;
  return (message) => {
    outbox.record(message, now());
    return sendLink?.(message);
  };
}

/**
 * Hands links to `sendLink` off the request that caused them: once its response is written (the
 * next turn of the event loop), without anyone waiting; a rejection is reported to `logger`.
 * `settled()` lets shutdown wait for sends still running.
 */
export class LinkSender {
  readonly #running = new Set<Promise<void>>();
  readonly #sendLink: SendLink | null;
  readonly #logger: VisitorPassLogger;

  constructor(sendLink: SendLink | null, logger: VisitorPassLogger) {
    this.#sendLink = sendLink;
    this.#logger = logger;
  }

  /** Whether there is anything to hand links to (the app's `sendLink`, or the outbox). */
  get enabled(): boolean {
    return this.#sendLink !== null;
  }

  send(message: LinkMessage): void {
    const sendLink = this.#sendLink;
    if (!sendLink) return;
    // The next turn of the event loop: the response that caused it has been written by then.
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => sendLink(message))
      .then(
        () => undefined,
        (error: unknown) => {
          const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          try {
            this.#logger.error(`visitor-pass: sendLink (${message.reason}) failed: ${text}`);
          } catch {
            // A logger that throws must not turn a failed send into an unhandled rejection.
          }
        },
      );
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }

  /** Resolves once every send started so far has finished. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }
}
