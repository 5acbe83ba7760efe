import type { ResolvedConfig } from "./config.js";
import { VisitorPassThrottled, VisitorPassUriTooLong } from "./errors.js";
import type { Guard } from "./guard.js";
import type { SessionPort, VisitRequest } from "./ports.js";
import { type SessionStash, unavailable } from "./session-stash.js";
import type { ThrottleBudgetName } from "./throttle.js";
import { isUuid, localPath, stripToken } from "./tokens.js";
import type { Visitor } from "./visitor.js";

/** What starting a self-service request asks of the pass service. */
export interface SelfServiceStartBackend {
  readonly config: ResolvedConfig;
  find(uuid: string): Promise<Visitor | null>;
  /** Creates an inactive self-service pass; the visitor completes it through the form. */
  createPending(
    scope: string,
    redirectTo: string,
    sessionExpiry: number | null | undefined,
  ): Promise<Visitor>;
  /** Counts one attempt from `ip` against a budget: `null` when allowed, else seconds to wait. */
  throttle(budget: ThrottleBudgetName, ip: string | null): Promise<number | null>;
}

/**
 * The longest URL (path and query string, in characters) a self-service pass remembers as where
 * its visitor was going: longer ones are refused (414) rather than stored, or stored cut short.
 */
const MAX_REDIRECT_LENGTH = 2048;

/** Methods that fetch without acting (link scanners, previews): they never start a request. */
const NEVER_ADMIT = new Set(["HEAD", "OPTIONS", "TRACE"]);

/**
 * Where a self-service guard sends a visitor without a pass: an inactive pass remembering where
 * the visitor was going, and the path of its form.
 */
export class SelfServiceStart {
  readonly #backend: SelfServiceStartBackend;
  readonly #stash: SessionStash;

  constructor(backend: SelfServiceStartBackend, stash: SessionStash) {
    this.#backend = backend;
    this.#stash = stash;
  }

  /**
   * The path of the form to redirect to, or `null` for methods that never admit (a link
   * scanner's HEAD must not fill the table). A session that asks again for the same page while
   * its pending pass is still open gets that pass again; otherwise one more is created, within
   * the client network's `selfService` budget. Throws `VisitorPassUriTooLong` (414) for a URL
   * too long to remember, `VisitorPassThrottled` (429) over the budget and
   * `VisitorPassUnavailable` (503) when the store fails.
   */
  async start<Req>(
    request: VisitRequest,
    guard: Guard<Req>,
    session: SessionPort | null = null,
  ): Promise<string | null> {
    if (NEVER_ADMIT.has(request.method.toUpperCase())) return null;
    const redirectTo = localPath(stripToken(request.url, this.#backend.config.querystringKey));
    if (redirectTo.length > MAX_REDIRECT_LENGTH)
      throw new VisitorPassUriTooLong(MAX_REDIRECT_LENGTH);
    let visitor: Visitor;
    try {
      const open = await this.#openPending(session, guard.scope, redirectTo);
      if (open) return this.#formPath(open);
      const retryAfter = await this.#backend.throttle("selfService", request.ip);
      if (retryAfter !== null) throw new VisitorPassThrottled(retryAfter);
      visitor = await this.#backend.createPending(
        guard.scope,
        redirectTo,
        guard.options.selfServiceSessionExpiry,
      );
    } catch (error) {
      throw unavailable(error);
    }
    this.#stash.setPending(session, visitor.uuid);
    return this.#formPath(visitor);
  }

  /** The pending pass this session was given for `scope` and `redirectTo`, while still open. */
  async #openPending(
    session: SessionPort | null,
    scope: string,
    redirectTo: string,
  ): Promise<Visitor | null> {
    const held = this.#stash.pending(session);
    if (!isUuid(held)) return null;
    const visitor = await this.#backend.find(held.toLowerCase());
    const open =
      visitor?.isSelfService &&
      !visitor.isActive &&
      !visitor.context?.claimedAt &&
      !visitor.hasExpired &&
      visitor.scope === scope &&
      visitor.context?.redirectTo === redirectTo;
    return open ? visitor : null;
  }

  #formPath(visitor: Visitor): string {
    const path = this.#backend.config.selfServicePath;
    return `${path === "/" ? "" : path}/self-service/${visitor.uuid}`;
  }
}
