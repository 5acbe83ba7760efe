import { cacheControl, NEVER_CONFIRM, type ResolvedConfig } from "./config.js";
import { isCrossSite, type OriginHeaders } from "./cross-site.js";
import {
  MalformedVisitorToken,
  VisitorAccessDenied,
  VisitorPassConfigError,
  VisitorPassError,
  type VisitorPassHttpError,
  VisitorPassThrottled,
  VisitorPassUnavailable,
  VisitorPassUriTooLong,
} from "./errors.js";
import { htmlPage, type PageResponse, textPage } from "./page.js";
import type { SessionPort, VisitRequest } from "./ports.js";
import type { ThrottleBudgetName } from "./throttle.js";
import { addToken, hasParam, isUuid, localPath, readToken, stripToken } from "./tokens.js";
import type { Visitor } from "./visitor.js";

/** `"*"`: a guard with this scope admits a visitor of any scope. */
export const SCOPE_ANY = "*";

/**
 * A value, or a promise of it. The request path answers synchronously whenever it has nothing to
 * wait for (no token, a pass the cache holds): most requests then cost no promise at all.
 */
export type MaybePromise<T> = T | Promise<T>;

export type { SessionPort, VisitRequest } from "./ports.js";

const LANDING_HEADERS: Readonly<Record<string, string>> = {
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

/**
 * The longest URL (path and query string, in characters) a self-service pass remembers as where
 * its visitor was going: longer ones are refused (414) rather than stored, or stored cut short.
 */
const MAX_REDIRECT_LENGTH = 2048;

/** Methods that fetch without acting (link scanners, previews): they never admit. */
const NEVER_ADMIT = new Set(["HEAD", "OPTIONS", "TRACE"]);

/** Headers a guard's admitted responses get, unless they already have them; null: none. */
export type GuardHeaders = Readonly<Record<string, string>> | null;

function cacheHeaders(value: string | false): GuardHeaders {
  return value === false ? null : Object.freeze({ "Cache-Control": value });
}

/** What a token on a request came to. */
export type Recognition =
  /** No token on the request. */
  | { kind: "none" }
  /**
   * A token on a request that cannot admit: hidden from the app, not used, the session left as
   * it was. Only a GET, or the confirmation page's POST from this same site, admits: a token on
   * any other request (HEAD, a PUT, a plain POST, a confirming POST from another site) could be
   * a hostile site's form planting its own pass ("login CSRF"), or a scanner.
   */
  | { kind: "ignored" }
  /** A token that is not a uuid: answer with `page` (400, "Malformed visitor token."). */
  | { kind: "malformed"; error: MalformedVisitorToken; page: PageResponse }
  /**
   * Admitted: `spent` tells whether a use was spent; `false` when the session already held this
   * very pass, which then keeps its admission as it was (no new lifetime). `confirmed`: it came
   * through the confirmation page's POST.
   */
  | { kind: "admitted"; visitor: Visitor; spent: boolean; confirmed?: boolean }
  /** The pass needs a click first: answer with this page, which POSTs back to confirm. */
  | { kind: "confirm"; visitor: Visitor; page: PageResponse }
  /** Unknown, inactive, expired or used up: the request goes on as anonymous. */
  | { kind: "refused" }
  /** Ignored: the session already holds a different visitor or a user (`onConflict: "keep"`). */
  | { kind: "kept" }
  /** Too many failed landings from this client network: answer with `page` (429, `Retry-After`). */
  | { kind: "throttled"; error: VisitorPassThrottled; page: PageResponse }
  | { kind: "unavailable"; error: VisitorPassUnavailable };

const NO_TOKEN: Recognition = Object.freeze({ kind: "none" });
const IGNORED: Recognition = Object.freeze({ kind: "ignored" });

/** The response a request ends with at recognition (a bad token, a confirmation page), or null. */
export function answerOf(recognition: Recognition): PageResponse | null {
  return recognition.kind === "malformed" ||
    recognition.kind === "confirm" ||
    recognition.kind === "throttled"
    ? recognition.page
    : null;
}

/** Where the request stands once the session has been consulted. */
export interface Settlement {
  visitor: Visitor | null;
  /** Answer with a redirect here (the URL without its token) instead of going on. */
  redirectTo: string | null;
  /** 302 after a GET landing, 303 after a confirming POST. */
  redirectStatus?: 302 | 303;
  /** Headers for that redirect: the token's URL must not travel on as a Referer, nor be cached. */
  redirectHeaders?: Record<string, string>;
  /** The store failed: no pass is honoured, guarded routes answer 503 with this. */
  unavailable: VisitorPassUnavailable | null;
}

export interface RequestContext {
  /** Whether a user is signed in (then the cookie lifetime of a pass does not apply). */
  authenticated: boolean;
}

/** What the request flow asks of the pass service (implemented by `VisitorPass`). */
export interface FlowBackend {
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
  spendUse(uuid: string): Promise<Visitor | null>;
  recordVisit(
    visitor: Visitor,
    request: VisitRequest,
    sessionId: string | null,
    status: number,
  ): void;
  /**
   * The error a visit that would be logged is refused with while visit logs cannot be written
   * (`onLogFailure: "refuse"`), else `null`.
   */
  logRefusal(): VisitorPassUnavailable | null;
  /** Creates an inactive self-service pass; the visitor completes it through the form. */
  createPending(
    scope: string,
    redirectTo: string,
    sessionExpiry: number | null | undefined,
  ): Promise<Visitor>;
  /** Counts one attempt from `ip` against a budget: `null` when allowed, else seconds to wait. */
  throttle(budget: ThrottleBudgetName, ip: string | null): Promise<number | null>;
  /**
   * Before a token is looked at: the answer for a client network over its budget of failed
   * landings (whatever the token: a valid one must not be told apart), else `null`.
   */
  landingThrottled(ip: string | null): Promise<Extract<Recognition, { kind: "throttled" }> | null>;
  /** A landing whose token admitted nobody: counted against its network's budget. */
  landingRefused(ip: string | null): Promise<Extract<Recognition, { kind: "refused" }>>;
  /** A landing admitted `visitor` (`spent`: a use was spent): tells the app. */
  admitted(visitor: Visitor, spent: boolean): void;
  /** `clearVisitor()` ended a session's access as `visitor`: tells the app. */
  cleared(visitor: Visitor): void;
}

export interface GuardOptions<Req> {
  /** The scope a visitor's pass must have; `SCOPE_ANY` admits every scope. */
  scope: string;
  /** Admits anyone for whom it returns true (e.g. staff), visitor or not. */
  bypass?: (request: Req) => boolean | Promise<boolean>;
  /** Write a `VisitorLog` row for each admitted visit. @default true */
  logVisit?: boolean;
  /** Send a visitor without a pass to the self-service form instead of refusing. @default false */
  selfService?: boolean;
  /** Session expiry, in seconds, of passes created through self-service. */
  selfServiceSessionExpiry?: number | null;
  /**
   * The `Cache-Control` header of the responses this guard admits, set only when the route (or a
   * middleware before the guard) set none; `false` leaves caching to the app.
   * @default the `guardCacheControl` option of `createVisitorPass` ("private, no-store")
   */
  cacheControl?: string | false;
}

export type GuardDecision =
  | { allow: true; log: boolean }
  | { allow: false; selfService: boolean; error: VisitorAccessDenied };

/**
 * A guarded visit to record once its final status is known: plain values, read when the guard let
 * the request through. It keeps nothing of the framework's request, which it may outlive.
 */
export interface PendingVisit {
  visitor: Visitor;
  visit: VisitRequest;
  /** The session's id as the guard saw it. */
  sessionId: string | null;
}

/** What a guarded route does with a request, as `VisitorFlow#guardRequest` decides it. */
export type GuardOutcome =
  /**
   * Go on to the route; `log` is the visit to record with the final status (null: none);
   * `headers` go on the response unless it already has them (a shared cache must not keep one
   * visitor's page for another).
   */
  | { kind: "allow"; log: PendingVisit | null; headers: GuardHeaders }
  /** Send the visitor to the self-service form. */
  | { kind: "redirect"; status: 302; location: string }
  /**
   * Refuse: `VisitorAccessDenied` (403), or `VisitorPassUnavailable` (503) while the store fails;
   * on the way to self-service also `VisitorPassThrottled` (429, with its `headers`) or
   * `VisitorPassUriTooLong` (414).
   */
  | { kind: "deny"; error: VisitorPassHttpError };

/** What a guarded route knows of the request from the middleware before it. */
export interface GuardContext {
  visit: VisitRequest;
  session: SessionPort | null;
  /** The store failed earlier in this request. */
  unavailable: VisitorPassUnavailable | null;
}

/** A guard checked at setup, deciding per request. */
export interface Guard<Req> {
  readonly scope: string;
  readonly options: GuardOptions<Req>;
  /** Headers of its own for admitted responses (`cacheControl`); `undefined`: the default. */
  readonly headers?: GuardHeaders;
  /** Synchronous unless `bypass` is asked and answers with a promise; rejects when it throws. */
  decide(request: Req, visitor: Visitor | null): MaybePromise<GuardDecision>;
}

/**
 * The request flow, written once for every framework: token → pass → admit; stash into and
 * restore from the session; the guard's decision; the visit log.
 */
export class VisitorFlow {
  readonly #backend: FlowBackend;
  /** The query parameter marking a confirming POST. */
  readonly #confirmKey: string;
  /** Where the session keeps the landing's Referer until the first logged visit. */
  readonly #refererKey: string;
  /** Where the session keeps when the pass was admitted (epoch ms), for its absolute lifetime. */
  readonly #admittedKey: string;
  readonly #guardHeaders: GuardHeaders;
  /** Where the session keeps the pending self-service pass it was given. */
  readonly #pendingKey: string;

  constructor(backend: FlowBackend) {
    this.#backend = backend;
    this.#confirmKey = `${backend.config.querystringKey}-confirm`;
    this.#refererKey = `${backend.config.sessionKey}:referer`;
    this.#admittedKey = `${backend.config.sessionKey}:admitted`;
    this.#guardHeaders = cacheHeaders(backend.config.guardCacheControl);
    this.#pendingKey = `${backend.config.sessionKey}:pending`;
  }

  get config(): ResolvedConfig {
    return this.#backend.config;
  }

  /**
   * Session keys a stash that must stay small (a cookie) may shorten or leave out without losing
   * the visitor: the landing's Referer, carried to the first logged visit.
   */
  get droppableSessionKeys(): ReadonlySet<string> {
    return new Set([this.#refererKey]);
  }

  /**
   * The pass `token` names when the session already holds it, still active and within the
   * session lifetime of its admission: nothing to spend, and nothing to renew. A held admission
   * that lapsed is forgotten here, so that the link (if it still can) admits afresh.
   */
  async #alreadyHeld(token: string, session?: SessionPort | null): Promise<Visitor | null> {
    const held = session?.get(this.config.sessionKey);
    if (held === undefined || held === null) return null;
    // A session stashed before digests were kept may still hold the token itself.
    if (held !== token && held !== this.#backend.sessionRef(token)) return null;
    return this.#held(session!, await this.#backend.find(token));
  }

  /**
   * The first half of a request: what the token on it (if any) comes to. Never throws: a bad
   * token and a failing store are outcomes the adapter renders.
   */
  recognise(
    request: VisitRequest,
    session: SessionPort | null,
    context: RequestContext,
  ): MaybePromise<Recognition> {
    let token: string | null;
    try {
      token = readToken(request.url, this.config.querystringKey);
    } catch (error) {
      if (error instanceof MalformedVisitorToken) {
        return { kind: "malformed", error, page: textPage(error.status, error.message) };
      }
      throw error;
    }
    if (token === null) return NO_TOKEN;
    const method = request.method.toUpperCase();
    if (method === "GET") return this.#recogniseToken(token, false, request, session, context);
    // Only the confirmation page's POST, from this same site, admits besides a GET.
    if (method !== "POST" || !hasParam(request.url, this.#confirmKey)) return IGNORED;
    if (isCrossSite(originOf(request))) return IGNORED;
    return this.#recogniseToken(token, true, request, session, context);
  }

  async #recogniseToken(
    token: string,
    confirming: boolean,
    request: VisitRequest,
    session: SessionPort | null,
    context: RequestContext,
  ): Promise<Recognition> {
    try {
      const alreadyHeld = await this.#alreadyHeld(token, session);
      if (alreadyHeld) {
        return { kind: "admitted", visitor: alreadyHeld, spent: false, confirmed: confirming };
      }
      const throttled = await this.#backend.landingThrottled(request.ip);
      if (throttled) return throttled;
      if (this.config.onConflict === "keep") {
        if (context.authenticated) return { kind: "kept" };
        // Another pass the session holds (and still honours) stays: a link cannot replace it.
        if (session && (await this.restore(session)) !== null) return { kind: "kept" };
      }
      if (!confirming) {
        const confirm = await this.#confirmation(token, request);
        if (confirm) return confirm;
      }
      const visitor = await this.#backend.spendUse(token);
      if (!visitor) return this.#backend.landingRefused(request.ip);
      return { kind: "admitted", visitor, spent: true, confirmed: confirming };
    } catch (error) {
      return { kind: "unavailable", error: unavailable(error) };
    }
  }

  /**
   * The second half: a newly admitted visitor is stashed in the session (rotating its id) and,
   * on a GET, sent on to the URL without its token; otherwise a visitor the session holds is
   * restored. Never throws for a failing store: it settles as unavailable, the session untouched.
   */
  settle(
    request: VisitRequest,
    session: SessionPort,
    recognition: Recognition,
    context: RequestContext,
  ): MaybePromise<Settlement> {
    if (recognition.kind === "unavailable") {
      return { visitor: null, redirectTo: null, unavailable: recognition.error };
    }
    if (recognition.kind === "admitted")
      return this.#settleAdmitted(request, session, recognition, context);
    let restored: MaybePromise<Visitor | null>;
    try {
      restored = this.restore(session);
    } catch (error) {
      return failedSettlement(error);
    }
    return restored instanceof Promise
      ? restored.then(settlementOf, failedSettlement)
      : settlementOf(restored);
  }

  async #settleAdmitted(
    request: VisitRequest,
    session: SessionPort,
    recognition: Extract<Recognition, { kind: "admitted" }>,
    context: RequestContext,
  ): Promise<Settlement> {
    const { visitor } = recognition;
    // A session that already held this pass keeps its admission as it was: landing again must
    // not give it a new lifetime (a stolen session could otherwise be renewed for ever).
    if (recognition.spent) await this.stash(session, visitor, context);
    this.#backend.admitted(visitor, recognition.spent);
    // Sent on to the URL without its token, which must not travel on as a Referer.
    const redirect = (redirectStatus: 302 | 303): Settlement => ({
      ...settlementOf(visitor),
      redirectTo: localPath(
        stripToken(stripToken(request.url, this.config.querystringKey), this.#confirmKey),
      ),
      redirectStatus,
      redirectHeaders: LANDING_HEADERS,
    });
    if (recognition.confirmed) return redirect(303);
    if (!this.config.landingRedirect || request.method.toUpperCase() !== "GET") {
      return settlementOf(visitor);
    }
    if (request.referer) session.set(this.#refererKey, request.referer);
    return redirect(302);
  }

  /**
   * Keeps a newly admitted visitor in the session: a reference to the pass (the token, or with
   * `tokenStorage: "hash"` its digest) and the time of admission, from which the pass's session
   * lifetime is counted; the cookie gets that lifetime. The session gets a new id first unless it
   * already held this pass: a change of privilege renews the id.
   */
  async stash(session: SessionPort, visitor: Visitor, context: RequestContext): Promise<void> {
    const ref = this.#backend.sessionRef(visitor.uuid);
    const held = session.get(this.config.sessionKey);
    if (held !== ref && held !== visitor.uuid) await session.regenerate();
    session.set(this.config.sessionKey, ref);
    session.set(this.#admittedKey, String(this.config.now().getTime()));
    if (!context.authenticated && visitor.sessionExpiry !== null) {
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
    const held = session.get(this.config.sessionKey);
    if (held === undefined || held === null) return null;
    // The common case: the pass the session holds is in the cache, as stored (no checks needed).
    const cached = typeof held === "string" ? this.#backend.cached(held) : undefined;
    if (cached) return this.#held(session, cached);
    if (!this.#backend.isSessionRef(held)) return this.#held(session, null);
    return this.#backend.find(held).then(
      (visitor) => this.#held(session, visitor, held),
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
  #held(session: SessionPort, visitor: Visitor | null, held?: string): Visitor | null {
    if (visitor?.isActive && this.#withinLifetime(session, visitor)) {
      if (held !== undefined && this.config.tokenStorage === "hash") {
        const ref = this.#backend.sessionRef(held);
        if (ref !== held) session.set(this.config.sessionKey, ref);
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
    return Number.isFinite(since) && this.config.now().getTime() < since + lifetime * 1000;
  }

  /**
   * The request as its visit log should record it, as plain values read now: the Referer of the
   * landing that redirected here (which the browser no longer sends) is carried over once, to
   * the first logged visit.
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

  /** The confirmation page for a valid pass that needs one; `null` otherwise. */
  async #confirmation(token: string, request: VisitRequest): Promise<Recognition | null> {
    if (this.config.needsConfirmation === NEVER_CONFIRM) return null;
    const visitor = await this.#backend.find(token);
    if (!visitor?.isValid || !this.config.needsConfirmation(visitor)) return null;
    if (visitor.maxUses !== null && visitor.uses >= visitor.maxUses) return null;
    // Always a path on this site: a request path starting with `//` must not make it a host.
    const action = addToken(localPath(request.url), this.#confirmKey, "1");
    const page = htmlPage(200, this.config.confirmPage({ visitor, action }));
    return { kind: "confirm", visitor, page };
  }

  /**
   * For a guard with `selfService`: an inactive pass remembering where the visitor was going,
   * and the path of its form to redirect to. `null` for methods that never admit (a link
   * scanner's HEAD must not fill the table). A session that asks again for the same page while
   * its pending pass is still open gets that pass again; otherwise one more is created, within
   * the client network's `selfService` budget. Throws `VisitorPassUriTooLong` (414) for a URL
   * too long to remember, `VisitorPassThrottled` (429) over the budget and
   * `VisitorPassUnavailable` (503) when the store fails.
   */
  async startSelfService<Req>(
    request: VisitRequest,
    guard: Guard<Req>,
    session: SessionPort | null = null,
  ): Promise<string | null> {
    if (NEVER_ADMIT.has(request.method.toUpperCase())) return null;
    const redirectTo = localPath(stripToken(request.url, this.config.querystringKey));
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
    session?.set(this.#pendingKey, visitor.uuid);
    return this.#formPath(visitor);
  }

  /** The pending pass this session was given for `scope` and `redirectTo`, while still open. */
  async #openPending(
    session: SessionPort | null,
    scope: string,
    redirectTo: string,
  ): Promise<Visitor | null> {
    const held = session?.get(this.#pendingKey);
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
    const base = this.config.selfServicePath === "/" ? "" : this.config.selfServicePath;
    return `${base}/self-service/${visitor.uuid}`;
  }

  /**
   * Everything a guarded route decides, once for every framework: admitted (with the visit to
   * log), sent to the self-service form, or refused — as unavailable first when the store failed
   * earlier in this request, since a pass could not be checked.
   */
  guardRequest<Req>(
    guard: Guard<Req>,
    request: Req,
    visitor: Visitor | null,
    context: GuardContext,
  ): MaybePromise<GuardOutcome> {
    const decision = guard.decide(request, visitor);
    return decision instanceof Promise
      ? decision.then((decided) => this.#outcome(guard, decided, visitor, context))
      : this.#outcome(guard, decision, visitor, context);
  }

  #outcome<Req>(
    guard: Guard<Req>,
    decision: GuardDecision,
    visitor: Visitor | null,
    context: GuardContext,
  ): MaybePromise<GuardOutcome> {
    if (decision.allow) {
      if (decision.log && visitor) {
        const refusal = this.#backend.logRefusal();
        if (refusal) return { kind: "deny", error: refusal };
      }
      const log =
        decision.log && visitor
          ? {
              visitor,
              visit: this.visitOf(context.visit, context.session),
              sessionId: context.session?.id ?? null,
            }
          : null;
      const headers = guard.headers === undefined ? this.#guardHeaders : guard.headers;
      return { kind: "allow", log, headers };
    }
    if (context.unavailable) return { kind: "deny", error: context.unavailable };
    if (decision.selfService) return this.#toSelfService(guard, decision.error, context);
    return { kind: "deny", error: decision.error };
  }

  async #toSelfService<Req>(
    guard: Guard<Req>,
    error: VisitorAccessDenied,
    context: GuardContext,
  ): Promise<GuardOutcome> {
    let location: string | null;
    try {
      location = await this.startSelfService(context.visit, guard, context.session);
    } catch (refusal) {
      if (
        refusal instanceof VisitorPassThrottled ||
        refusal instanceof VisitorPassUriTooLong ||
        refusal instanceof VisitorPassUnavailable
      ) {
        return { kind: "deny", error: refusal };
      }
      throw refusal;
    }
    if (location !== null) return { kind: "redirect", status: 302, location };
    return { kind: "deny", error };
  }

  /**
   * Ends visitor access for this session; `visitor`: the one `clearVisitor()` ends, which is told
   * to the app when the session held a pass.
   */
  clear(session: SessionPort, visitor?: Visitor | null): void {
    if (visitor && session.get(this.config.sessionKey) != null) this.#backend.cleared(visitor);
    session.delete(this.config.sessionKey);
    session.delete(this.#refererKey);
    session.delete(this.#admittedKey);
  }

  /** Records a visit a guard let through (`GuardOutcome`'s `log`) with its final status code. */
  recordPending(pending: PendingVisit, status: number): void {
    this.recordVisit(pending.visitor, pending.visit, pending.sessionId, status);
  }

  /** Records a guarded visit with its final status code. Never throws; never blocks the response. */
  recordVisit(
    visitor: Visitor,
    request: VisitRequest,
    sessionId: string | null,
    status: number,
  ): void {
    this.#backend.recordVisit(visitor, request, sessionId, status);
  }
}

export function createGuard<Req>(options: GuardOptions<Req>): Guard<Req> {
  const scope = options?.scope;
  if (typeof scope !== "string" || scope.trim() === "") {
    throw new VisitorPassConfigError("scope", scope, "userIsVisitor() needs a non-empty scope");
  }
  if (options.bypass !== undefined && typeof options.bypass !== "function") {
    throw new VisitorPassConfigError("bypass", options.bypass, "must be a function");
  }
  const log = options.logVisit !== false;
  const selfService = options.selfService === true;
  const headers =
    options.cacheControl === undefined
      ? undefined
      : cacheHeaders(cacheControl("cacheControl", options.cacheControl));
  if (selfService && scope === SCOPE_ANY) {
    throw new VisitorPassConfigError("scope", scope, "a self-service guard needs a specific scope");
  }
  return {
    scope,
    options,
    headers,
    decide(request, visitor) {
      if (visitor && (scope === SCOPE_ANY || visitor.scope === scope))
        return log ? LOGGED : UNLOGGED;
      const decided = (bypassed: unknown): GuardDecision =>
        bypassed ? UNLOGGED : { allow: false, selfService, error: new VisitorAccessDenied(scope) };
      if (!options.bypass) return decided(false);
      let bypassed: unknown;
      try {
        bypassed = options.bypass(request);
      } catch (error) {
        return Promise.reject(error);
      }
      return isThenable(bypassed) ? Promise.resolve(bypassed).then(decided) : decided(bypassed);
    },
  };
}

const LOGGED: GuardDecision = Object.freeze({ allow: true, log: true });
/** Admitted without a visit log: `logVisit: false`, or let through by `bypass`. */
const UNLOGGED: GuardDecision = Object.freeze({ allow: true, log: false });

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

function settlementOf(visitor: Visitor | null): Settlement {
  return { visitor, redirectTo: null, unavailable: null };
}

function failedSettlement(error: unknown): Settlement {
  return { visitor: null, redirectTo: null, unavailable: unavailable(error) };
}

function originOf(request: VisitRequest): OriginHeaders {
  return {
    origin: request.origin ?? null,
    secFetchSite: request.secFetchSite ?? null,
    host: request.host ?? null,
  };
}

/** Store failures become `VisitorPassUnavailable`; the package's own errors pass through. */
function unavailable(error: unknown): VisitorPassUnavailable {
  if (error instanceof VisitorPassUnavailable) return error;
  if (error instanceof VisitorPassError) throw error;
  return new VisitorPassUnavailable({ cause: error });
}
