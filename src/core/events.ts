import type { VisitorPassLogger } from "./config.js";
import type { SharingSignals } from "./sharing.js";
import type { Visitor } from "./visitor.js";

/** What `visitorAdmitted` is given: the visitor a landing admitted, and whether it spent a use. */
export interface VisitorAdmittedEvent {
  visitor: Visitor;
  /**
   * `true` when the landing spent one of the pass's uses; `false` when the session already held
   * this very pass, which kept its admission as it was.
   */
  spent: boolean;
}

/** What `passFlaggedShared` is given: the pass, and the signals that flagged it. */
export interface PassFlaggedSharedEvent {
  visitor: Visitor;
  /** The pass's sharing signals just after the visits that made it cross a threshold. */
  signals: SharingSignals;
}

/** What `freshLinkSent` is given: the pass whose fresh link was sent. */
export interface FreshLinkSentEvent {
  visitor: Visitor;
}

/** What `visitorPromoted` is given: the pass as promoted, and the account's user id. */
export interface VisitorPromotedEvent {
  /** The pass after promotion: inactive, with `promotedTo` and `promotedAt` set. */
  visitor: Visitor;
  userId: string;
}

/**
 * The events of a pass service, by name, with what their handlers are given. Every event fires
 * once per occurrence, after the work of the request (or call) that caused it, which never waits
 * for its handlers; a handler that throws or rejects is reported through the `logger` option and
 * changes nothing else.
 */
export interface VisitorPassEventMap {
  /** A visitor completed the self-service form: send them their link (`passes.tokenise`). */
  selfServiceVisitorCreated: Visitor;
  /** A landing (a link followed, or its confirmation page submitted) admitted a visitor. */
  visitorAdmitted: VisitorAdmittedEvent;
  /** `clearVisitor()` ended the access of a session that held this visitor. */
  visitorCleared: Visitor;
  /**
   * A pass that was active was turned off through `passes.deactivate()` (the admin pages and the
   * command line use it) in this process. A pass deactivated by another process, or by SQL,
   * fires nothing here.
   */
  passDeactivated: Visitor;
  /**
   * A pass crossed its `sharingThresholds`: checked when this process writes a batch of visit
   * logs that brings a session, network or browser family new to this process for the pass, and
   * only while a handler is subscribed. Fires once per crossing seen by this process.
   */
  passFlaggedShared: PassFlaggedSharedEvent;
  /** A fresh link was sent to a visitor whose link had expired. */
  freshLinkSent: FreshLinkSentEvent;
  /**
   * `passes.promote()` promoted a pass to an account in this process: once per pass, never
   * again for a repeated call with the same user id (nor by another process, or by SQL).
   */
  visitorPromoted: VisitorPromotedEvent;
}

export type VisitorPassEventName = keyof VisitorPassEventMap;

/** A handler of event `E`. */
export type VisitorPassEventHandler<E extends VisitorPassEventName> = (
  payload: VisitorPassEventMap[E],
) => void | Promise<void>;

/**
 * The handlers of each event, typed by name, and how events reach them: `emit` awaits each
 * handler in turn (and rejects with the first error); `fire`, which the package itself uses,
 * calls them after the current work, never making it wait, and reports a failing handler to the
 * logger.
 */
export class PassEvents {
  readonly #handlers = new Map<VisitorPassEventName, Set<(payload: never) => unknown>>();
  /** Handlers still running after `fire`, so that shutdown can wait for them. */
  readonly #running = new Set<Promise<void>>();

  constructor(readonly logger: VisitorPassLogger) {}

  on<E extends VisitorPassEventName>(event: E, handler: VisitorPassEventHandler<E>): () => void {
    if (typeof handler !== "function") {
      throw new TypeError(`passes.on("${String(event)}", handler) needs a function`);
    }
    const handlers = this.#handlers.get(event) ?? new Set();
    handlers.add(handler as (payload: never) => unknown);
    this.#handlers.set(event, handlers);
    return () => this.off(event, handler);
  }

  off<E extends VisitorPassEventName>(event: E, handler: VisitorPassEventHandler<E>): void {
    this.#handlers.get(event)?.delete(handler as (payload: never) => unknown);
  }

  /** Whether `event` has a handler: work done only for an event can be skipped without. */
  has(event: VisitorPassEventName): boolean {
    return (this.#handlers.get(event)?.size ?? 0) > 0;
  }

  /** Calls every handler of `event` in turn, waiting for each; rejects with a handler's error. */
  async emit<E extends VisitorPassEventName>(
    event: E,
    payload: VisitorPassEventMap[E],
  ): Promise<void> {
    for (const handler of [...(this.#handlers.get(event) ?? [])]) {
      await (handler as VisitorPassEventHandler<E>)(payload);
    }
  }

  /**
   * Calls every handler of `event` once the current work is done (never inside it: `fire`
   * returns first), each on its own, without anyone waiting for them: one that throws or
   * rejects is reported and the others still run.
   */
  fire<E extends VisitorPassEventName>(event: E, payload: VisitorPassEventMap[E]): void {
    const handlers = this.#handlers.get(event);
    if (!handlers || handlers.size === 0) return;
    const snapshot = [...handlers] as VisitorPassEventHandler<E>[];
    // A microtask: after the work that fired it, before the response is written, so that a
    // handler's synchronous part has run by the time a client sees the response.
    const run = Promise.resolve()
      .then(() =>
        Promise.all(
          snapshot.map(async (handler) => {
            try {
              await handler(payload);
            } catch (error) {
              this.#report(event, error);
            }
          }),
        ),
      )
      .then(() => undefined);
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }

  /** Resolves once every handler started by `fire` so far has finished. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  #report(event: VisitorPassEventName, error: unknown): void {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    try {
      this.logger.error(`visitor-pass: a "${event}" handler failed: ${message}`);
    } catch {
      // A logger that throws must not turn a handler's failure into an unhandled rejection.
    }
  }
}
