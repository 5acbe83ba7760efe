import type { ResolvedConfig } from "./config.js";
import { VisitorPassError, VisitorPassUnavailable } from "./errors.js";
import type { MaybePromise } from "./guard.js";
import type { SessionPort, VisitRequest } from "./ports.js";
import type { Visitor } from "./visitor.js";

/** What the session stash asks of the pass service: pass lookups and session references. */
export interface StashBackend {
  readonly config: ResolvedConfig;
  find(uuid: string): Promise<Visitor | null>;
  /**
   * The pass a session reference (`sessionRef`) names when it is at hand without a query (the
   * pass cache), as stored; else undefined.
   */
  cached(ref: string): Visitor | undefined;
  /**
   * What a session keeps for the pass a token (or a digest `list()` shows) names: the token, or
   * with `tokenStorage: "hash"` its digest, so that no session store holds a usable token.
   */
  sessionRef(uuid: string): string;
  /** Whether a value found in a session could be a `sessionRef` (else it was tampered with). */
  isSessionRef(value: unknown): value is string;
}

/**
 * What a session holds for visitor-pass, and every rule about it: under `sessionKey` a reference
 * to the pass (the token, or its digest with `tokenStorage: "hash"`); beside it the time of
 * admission, from which the pass's session lifetime is counted; the landing's Referer until the
 * first logged visit; and the pending self-service pass the session was given.
 */
export class SessionStash {
  readonly #backend: StashBackend;
  readonly #key: string;
  /** Where the session keeps the landing's Referer until the first logged visit. */
  readonly #refererKey: string;
  /** Where the session keeps when the pass was admitted (epoch ms), for its absolute lifetime. */
  readonly #admittedKey: string;
  /** Where the session keeps the pending self-service pass it was given. */
  readonly #pendingKey: string;

  constructor(backend: StashBackend) {
    this.#backend = backend;
    const key = backend.config.sessionKey;
    this.#key = key;
    this.#refererKey = `${key}:referer`;
    this.#admittedKey = `${key}:admitted`;
    this.#pendingKey = `${key}:pending`;
  }

  get #config(): ResolvedConfig {
    return this.#backend.config;
  }

  /**
   * Session keys a stash that must stay small (a cookie) may shorten or leave out without losing
   * the visitor: the landing's Referer, carried to the first logged visit.
   */
  get droppableKeys(): ReadonlySet<string> {
    return new Set([this.#refererKey]);
  }

  /** Whether the session holds a pass at all. */
  holdsAny(session: SessionPort): boolean {
    return session.get(this.#key) != null;
  }

  /** Whether the session holds a pass reference matching `token` (its digest, or the token). */
  holds(session: SessionPort | null, token: string): boolean {
    const held = session?.get(this.#key);
    if (held === undefined || held === null) return false;
    // A session stashed before digests were kept may still hold the token itself.
    return held === token || held === this.#backend.sessionRef(token);
  }

  /**
   * Keeps a newly admitted visitor in the session: a reference to the pass and the time of
   * admission; the cookie gets the pass's session lifetime unless a user is signed in. The
   * session gets a new id first unless it already held this pass: a change of privilege renews
   * the id.
   */
  async stash(session: SessionPort, visitor: Visitor, authenticated: boolean): Promise<void> {
    const ref = this.#backend.sessionRef(visitor.uuid);
    const held = session.get(this.#key);
    if (held !== ref && held !== visitor.uuid) await session.regenerate();
    session.set(this.#key, ref);
    session.set(this.#admittedKey, String(this.#config.now().getTime()));
    if (!authenticated && visitor.sessionExpiry !== null) {
      session.setCookieLifetime(visitor.sessionExpiry);
    }
  }

  /**
   * The visitor held by the session while the pass stays active (even after the link expired)
   * and its session lifetime, counted from the admission, has not passed — whatever the session
   * store does with its own expiry (express-session renews it on every request). A held pass that
   * is gone, inactive, past that lifetime or was tampered with is forgotten. With
   * `tokenStorage: "hash"` the visitor's `uuid` is the digest, as the session holds it. Throws
   * `VisitorPassUnavailable`, leaving the session as it was, when the store fails.
   */
  restore(session: SessionPort): MaybePromise<Visitor | null> {
    const held = session.get(this.#key);
    if (held === undefined || held === null) return null;
    // The common case: the pass the session holds is in the cache, as stored (no checks needed).
    const cached = typeof held === "string" ? this.#backend.cached(held) : undefined;
    if (cached) return this.held(session, cached);
    if (!this.#backend.isSessionRef(held)) return this.held(session, null);
    return this.#backend.find(held).then(
      (visitor) => this.held(session, visitor, held),
      (error) => {
        throw unavailable(error);
      },
    );
  }

  /**
   * `visitor` while its pass is active and within its session lifetime; otherwise the session
   * forgets it. A session that still holds a token where a digest belongs (`held`, stashed
   * before digests were kept) is given the digest instead.
   */
  held(session: SessionPort, visitor: Visitor | null, held?: string): Visitor | null {
    if (visitor?.isActive && !visitor.isPromoted && this.#withinLifetime(session, visitor)) {
      if (held !== undefined && this.#config.tokenStorage === "hash") {
        const ref = this.#backend.sessionRef(held);
        if (ref !== held) session.set(this.#key, ref);
      }
      return visitor;
    }
    this.clear(session);
    return null;
  }

  /**
   * Whether the session's admission of `visitor` is within the pass's `sessionExpiry`, counted
   * from the admission time the session keeps beside it. Passes with `0` (a browser-session
   * cookie) or `null` (the app's policy) set no lifetime of their own. A session without a
   * readable admission time cannot show it is within one, and is refused.
   */
  #withinLifetime(session: SessionPort, visitor: Visitor): boolean {
    const lifetime = visitor.sessionExpiry;
    if (!lifetime) return true;
    const admitted = session.get(this.#admittedKey);
    if (typeof admitted !== "string") return false;
    const since = Number(admitted);
    return Number.isFinite(since) && this.#config.now().getTime() < since + lifetime * 1000;
  }

  /** Keeps the landing's Referer, which the browser no longer sends after the redirect. */
  rememberReferer(session: SessionPort, referer: string | null): void {
    if (referer) session.set(this.#refererKey, referer);
  }

  /**
   * The request as its visit log should record it, as plain values read now: the Referer of the
   * landing that redirected here is carried over once, to the first logged visit.
   *
   * Read field by field, because adapters serve them through getters on the framework's request,
   * and copied because a visit waits for its final status beside the request: an object there
   * that leads back to the request can make the garbage collector keep and copy much of every
   * request's objects (bench/README.md, "Garbage collection").
   */
  visitOf(request: VisitRequest, session: SessionPort | null): VisitRequest {
    const carried = session?.get(this.#refererKey);
    if (typeof carried === "string") session!.delete(this.#refererKey);
    return {
      method: request.method,
      url: request.url,
      userAgent: request.userAgent,
      referer: typeof carried === "string" ? carried : request.referer,
      ip: request.ip,
    };
  }

  /** The pending self-service pass this session was given, as the session holds it. */
  pending(session: SessionPort | null): unknown {
    return session?.get(this.#pendingKey);
  }

  /** Remembers the pending self-service pass this session was given. */
  setPending(session: SessionPort | null, uuid: string): void {
    session?.set(this.#pendingKey, uuid);
  }

  /** Ends visitor access for this session. */
  clear(session: SessionPort): void {
    session.delete(this.#key);
    session.delete(this.#refererKey);
    session.delete(this.#admittedKey);
  }
}

/** Store failures become `VisitorPassUnavailable`; the package's own errors pass through. */
export function unavailable(error: unknown): VisitorPassUnavailable {
  if (error instanceof VisitorPassUnavailable) return error;
  if (error instanceof VisitorPassError) throw error;
  return new VisitorPassUnavailable({ cause: error });
}
