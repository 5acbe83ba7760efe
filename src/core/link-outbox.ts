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
 * A link whose message is made off the request too: `prepare` builds it once the response is
 * written (`null`: there is none to send), and a rejection of it is reported as `failure`.
 */
export interface LinkPreparation {
  prepare(): Promise<LinkMessage | null>;
  failure: string;
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

  /** Sends `link` (or what it prepares); `sent` is called once `sendLink` has taken it. */
  send(link: LinkMessage | LinkPreparation, sent?: (message: LinkMessage) => void): void {
    const sendLink = this.#sendLink;
    if (!sendLink) return;
    // The next turn of the event loop: the response that caused it has been written by then.
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#run(sendLink, link, sent))
      .catch((error: unknown) => this.#report("could not send a link", error));
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }

  /** Resolves once every send started so far has finished. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  async #run(
    sendLink: SendLink,
    link: LinkMessage | LinkPreparation,
    sent: ((message: LinkMessage) => void) | undefined,
  ): Promise<void> {
    let message: LinkMessage | null;
    if ("prepare" in link) {
      try {
        message = await link.prepare();
      } catch (error) {
        this.#report(link.failure, error);
        return;
      }
      if (!message) return;
    } else {
      message = link;
    }
    try {
      await sendLink(message);
    } catch (error) {
      this.#report(`sendLink (${message.reason}) failed`, error);
      return;
    }
    sent?.(message);
  }

  #report(what: string, error: unknown): void {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    try {
      this.#logger.error(`visitor-pass: ${what}: ${text}`);
    } catch {
      // A logger that throws must not turn a failed send into an unhandled rejection.
    }
  }
}
