import type { ResolvedConfig } from "./config.js";
import { DebugLog } from "./debug-log.js";
import {
  setupError,
  type VisitorPassHttpError,
  VisitorPassThrottled,
  VisitorPassUnavailable,
  VisitorPassUriTooLong,
} from "./errors.js";
import {
  cacheHeaders,
  type Guard,
  type GuardDecision,
  type GuardHeaders,
  type MaybePromise,
  matchRequest,
} from "./guard.js";
import { htmlPage, PAGE_HEADERS, type PageResponse, textPage } from "./page.js";
import type { RequestContext, SessionPort, VisitRequest } from "./ports.js";
import { NO_TOKEN, type RecogniseBackend, Recogniser, type Recognition } from "./recognise.js";
import { SelfServiceStart, type SelfServiceStartBackend } from "./self-service-start.js";
import { SessionStash, type StashBackend, unavailable } from "./session-stash.js";
import { isOriginForm, localPath, stripToken } from "./tokens.js";
import type { Visitor } from "./visitor.js";

export type { MaybePromise } from "./guard.js";
export type { RequestContext } from "./ports.js";
export type { Recognition } from "./recognise.js";

/** What the request flow asks of the pass service (implemented by `VisitorPass`). */
export interface FlowBackend extends StashBackend, RecogniseBackend, SelfServiceStartBackend {
  readonly config: ResolvedConfig;
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
  /** The HTML page of a 429 (`VisitorPassThrottled`): wait `retryAfter` seconds. */
  throttledPage(retryAfter: number): string;
  /** A landing admitted `visitor` (`spent`: a use was spent): tells the app. */
  admitted(visitor: Visitor, spent: boolean): void;
  /** `clearVisitor()` ended a session's access as `visitor`: tells the app. */
  cleared(visitor: Visitor): void;
}

/**
 * Whether a user is signed in, as every adapter decides it unless told otherwise: the framework's
 * request (or Hono's `c.var`) has a `user`, as Passport and most authentication middleware set it.
 */
export function hasUser(holder: unknown): boolean {
  return (holder as { user?: unknown } | null | undefined)?.user != null;
}

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

/**
 * The request ends here: send this response. A token that is not a uuid (400), the confirmation
 * page, the landing's redirect off its token (302, or 303 after confirming), a guard's redirect
 * to the self-service form, or a guard's refusal.
 */
export interface Respond {
  kind: "respond";
  status: number;
  /** Every header of the response (`Location` included for a redirect). */
  headers: Readonly<Record<string, string>>;
  /** The body, or `null` (a redirect). */
  body: string | null;
  /** Where a redirect goes (also in `headers`), else `null`. */
  location: string | null;
  /**
   * A guard's refusal (403, 503, 429, 414): adapters hand it to their framework's error handling
   * (Express's `next(error)`, Fastify's thrown error, Hono's `HTTPException`), which renders
   * `body` unless the app renders its own page. `null` for every other answer.
   */
  error: VisitorPassHttpError | null;
  /** The visitor the session holds now (a landing's redirect admitted one), for later hooks. */
  visitor: Visitor | null;
}

/** The request goes on to the app. */
export interface Continue {
  kind: "continue";
  /** The visitor admitted by a token on this request or restored from the session, or null. */
  visitor: Visitor | null;
  /** The request carried a token: take it off the URL the app sees (`withoutToken`). */
  hideToken: boolean;
  /** The store failed: no pass could be honoured, and a guard later refuses with 503. */
  unavailable: VisitorPassUnavailable | null;
  /** What the token came to, for `settle` when the two halves run apart (Express). */
  recognition: Recognition;
  /** A guard admitted it: the visit to record with the final status (`recordPending`), or null. */
  log: PendingVisit | null;
  /** A guard admitted it: headers for the response unless it already has them, or null. */
  headers: GuardHeaders;
}

/** What visitor-pass makes of a request: an answer to send, or the request goes on. */
export type FlowResult = Respond | Continue;

/** What a guard knows of the request from the flow's earlier step. */
export interface GuardContext {
  visit: VisitRequest;
  session: SessionPort | null;
  /** The store failed earlier in this request. */
  unavailable: VisitorPassUnavailable | null;
  /**
   * The route's parameters, where the framework has them (a guard's `match` is given their
   * string values); absent or null: none.
   */
  params?: Readonly<Record<string, unknown>> | null;
}

const LANDING_HEADERS: Readonly<Record<string, string>> = {
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

const ANONYMOUS: Continue = Object.freeze({
  kind: "continue",
  visitor: null,
  hideToken: false,
  unavailable: null,
  recognition: NO_TOKEN,
  log: null,
  headers: null,
});

/**
 * The request flow, written once for every framework. Adapters call it where their framework lets
 * them — `enter` in the middleware every request goes through (or `recognise` and `settle` apart),
 * `guard` on a guarded route, or `handle` for both at once — and apply the one result it returns.
 */
export class VisitorFlow {
  readonly #backend: FlowBackend;
  readonly #stash: SessionStash;
  readonly #recogniser: Recogniser;
  readonly #selfService: SelfServiceStart;
  readonly #guardHeaders: GuardHeaders;
  /** The debug lines, only when the app's logger has `debug`: `null` costs nothing. */
  readonly #debug: DebugLog | null;

  constructor(backend: FlowBackend) {
    this.#backend = backend;
    this.#stash = new SessionStash(backend);
    this.#recogniser = new Recogniser(backend, this.#stash);
    this.#selfService = new SelfServiceStart(backend, this.#stash);
    this.#guardHeaders = cacheHeaders(backend.config.guardCacheControl);
    this.#debug = DebugLog.of(backend.config.logger);
  }

  get config(): ResolvedConfig {
    return this.#backend.config;
  }

  /** What a session holds for visitor-pass, and the rules about it. */
  get stash(): SessionStash {
    return this.#stash;
  }

  /**
   * Session keys a stash that must stay small (a cookie) may shorten or leave out without losing
   * the visitor.
   */
  get droppableSessionKeys(): ReadonlySet<string> {
    return this.#stash.droppableKeys;
  }

  /**
   * The middleware's whole decision: what the token (if any) comes to, then the session — a new
   * visitor stashed and sent on to the URL without its token, or the one it holds restored.
   * `missingSession` is the setup error's message when `session` is null for a request that
   * needs one. Never throws for a failing store: the request goes on as unavailable.
   */
  enter(
    request: VisitRequest,
    session: SessionPort | null,
    context: RequestContext,
    missingSession: string,
  ): MaybePromise<FlowResult> {
    if (!session) return withoutSession(request, missingSession);
    const recognised = this.recognise(request, session, context);
    return recognised instanceof Promise
      ? recognised.then((result) =>
          this.#afterRecognised(result, request, session, context, missingSession),
        )
      : this.#afterRecognised(recognised, request, session, context, missingSession);
  }

  #afterRecognised(
    recognised: FlowResult,
    request: VisitRequest,
    session: SessionPort | null,
    context: RequestContext,
    missingSession: string,
  ): MaybePromise<FlowResult> {
    if (recognised.kind === "respond") return recognised;
    const settled = this.settle(request, session, context, recognised.recognition, missingSession);
    if (!recognised.hideToken) return settled;
    return settled instanceof Promise ? settled.then(withHiddenToken) : withHiddenToken(settled);
  }

  /**
   * The first half, for a middleware that runs before the app's own authentication: what the
   * token on the request comes to. Answers at once for a malformed token (400) and a pass that
   * needs confirming; otherwise the request goes on with `recognition` for `settle`. A request
   * whose target is not a path (`OPTIONS *`, an absolute URL) and got no session is anonymous:
   * its token, if any, is not looked at.
   */
  recognise(
    request: VisitRequest,
    session: SessionPort | null,
    context: RequestContext,
  ): MaybePromise<FlowResult> {
    if (!session && !isOriginForm(request.url)) return ANONYMOUS;
    const recognition = this.#recogniser.recognise(request, session, context);
    return recognition instanceof Promise
      ? recognition.then(recognitionResult)
      : recognitionResult(recognition);
  }

  /**
   * The second half: a newly admitted visitor is stashed in the session (rotating its id) and,
   * on a GET, sent on to the URL without its token; otherwise a visitor the session holds is
   * restored. Never throws for a failing store: the request goes on as unavailable, the session
   * untouched. Throws a setup error (`missingSession`) when a request that names a path has no
   * session.
   */
  settle(
    request: VisitRequest,
    session: SessionPort | null,
    context: RequestContext,
    recognition: Recognition,
    missingSession: string,
  ): MaybePromise<FlowResult> {
    if (!session) return withoutSession(request, missingSession);
    if (recognition.kind === "unavailable") return unavailableResult(recognition.error);
    if (recognition.kind === "admitted")
      return this.#admitted(request, session, recognition, context);
    let restored: MaybePromise<Visitor | null>;
    try {
      restored = this.#stash.restore(session);
    } catch (error) {
      return failed(error);
    }
    if (restored instanceof Promise) {
      return restored.then((visitor) => this.#restored(visitor), failed);
    }
    return this.#restored(restored);
  }

  #restored(visitor: Visitor | null): Continue {
    if (visitor && this.#debug) this.#debug.restored(visitor);
    return goOn(visitor);
  }

  async #admitted(
    request: VisitRequest,
    session: SessionPort,
    recognition: Extract<Recognition, { kind: "admitted" }>,
    context: RequestContext,
  ): Promise<FlowResult> {
    const { visitor } = recognition;
    // A session that already held this pass keeps its admission as it was: landing again must
    // not give it a new lifetime (a stolen session could otherwise be renewed for ever).
    if (recognition.spent) await this.#stash.stash(session, visitor, context.authenticated);
    this.#backend.admitted(visitor, recognition.spent);
    if (this.#debug) this.#debug.admitted(visitor, recognition.spent);
    if (recognition.confirmed) return this.#offToken(request, visitor, 303);
    if (!this.config.landingRedirect || request.method.toUpperCase() !== "GET") {
      return goOn(visitor);
    }
    this.#stash.rememberReferer(session, request.referer);
    return this.#offToken(request, visitor, 302);
  }

  /** Sent on to the URL without its token, which must not travel on as a Referer. */
  #offToken(request: VisitRequest, visitor: Visitor, status: 302 | 303): Respond {
    const location = localPath(
      stripToken(this.withoutToken(request.url), this.#recogniser.confirmKey),
    );
    return redirect(status, location, visitor, LANDING_HEADERS);
  }

  /**
   * What a guarded route does with the request: goes on (with the visit to log and the headers
   * for its response), redirects to the self-service form, or refuses — as unavailable first
   * when the store failed earlier in this request, since a pass could not be checked.
   */
  guard<Req>(
    guard: Guard<Req>,
    request: Req,
    visitor: Visitor | null,
    context: GuardContext,
  ): MaybePromise<FlowResult> {
    const decision = guard.decide(
      request,
      visitor,
      guard.matches ? () => this.#matchRequest(context) : undefined,
    );
    return decision instanceof Promise
      ? decision.then((decided) => this.#guarded(guard, decided, visitor, context))
      : this.#guarded(guard, decision, visitor, context);
  }

  /** What a guard's `match` is told of the request: its method, path, query and params. */
  #matchRequest(context: GuardContext) {
    return matchRequest(context.visit.method, this.withoutToken(context.visit.url), context.params);
  }

  #guarded<Req>(
    guard: Guard<Req>,
    decision: GuardDecision,
    visitor: Visitor | null,
    context: GuardContext,
  ): MaybePromise<FlowResult> {
    if (decision.allow) {
      const logged = decision.log && visitor ? visitor : null;
      if (logged) {
        const refusal = this.#backend.logRefusal();
        if (refusal) {
          if (this.#debug) this.#debug.refused(guard.scope, "log-failure", visitor, refusal.status);
          return this.#refusal(refusal);
        }
      }
      return {
        kind: "continue",
        visitor,
        hideToken: false,
        unavailable: null,
        recognition: NO_TOKEN,
        log: logged
          ? {
              visitor: logged,
              visit: this.#stash.visitOf(context.visit, context.session),
              sessionId: context.session?.id ?? null,
            }
          : null,
        headers: guard.headers === undefined ? this.#guardHeaders : guard.headers,
      };
    }
    if (decision.thrown !== undefined) this.#matchThrew(guard, visitor, decision.thrown);
    if (context.unavailable) {
      if (this.#debug) {
        this.#debug.refused(guard.scope, "unavailable", visitor, context.unavailable.status);
      }
      return this.#refusal(context.unavailable);
    }
    if (decision.selfService) return this.#toSelfService(guard, decision.error, context);
    if (this.#debug) this.#debug.refused(guard.scope, decision.reason, visitor, 403);
    return this.#refusal(decision.error);
  }

  /** A guard's `match` threw: the request was refused (fail closed), and the app is told. */
  #matchThrew<Req>(guard: Guard<Req>, visitor: Visitor | null, thrown: unknown): void {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    const who = visitor ? `pass ${visitor.id}` : "a request";
    try {
      this.#backend.config.logger.error(
        `visitor-pass: the match of a guard of scope "${guard.scope}" failed for ${who}, which was refused: ${message}`,
      );
    } catch {
      // A logger that fails must not fail the request.
    }
  }

  async #toSelfService<Req>(
    guard: Guard<Req>,
    denied: VisitorPassHttpError,
    context: GuardContext,
  ): Promise<FlowResult> {
    let location: string | null;
    try {
      location = await this.#selfService.start(context.visit, guard, context.session);
    } catch (refusal) {
      if (
        refusal instanceof VisitorPassThrottled ||
        refusal instanceof VisitorPassUriTooLong ||
        refusal instanceof VisitorPassUnavailable
      ) {
        return this.#refusal(refusal);
      }
      throw refusal;
    }
    if (location === null) {
      if (this.#debug) this.#debug.refused(guard.scope, "scope", null, denied.status);
      return this.#refusal(denied);
    }
    if (this.#debug) this.#debug.selfService(guard.scope);
    return redirect(302, location, null);
  }

  /** A guard's refusal: its error, and the page to send unless the app renders its own. */
  #refusal(error: VisitorPassHttpError): Respond {
    const page =
      error instanceof VisitorPassThrottled
        ? {
            ...htmlPage(429, this.#backend.throttledPage(error.retryAfter)),
            headers: { ...PAGE_HEADERS },
          }
        : textPage(error.status, error.message);
    return {
      kind: "respond",
      status: page.status,
      headers: { ...page.headers, ...error.headers },
      body: page.body,
      location: null,
      error,
      visitor: null,
    };
  }

  /**
   * `enter` and `guard` in one call, for entry points that know the route's guard when the
   * request arrives (the Fetch entry point). `appRequest` is what `bypass` is given; `failedEarlier`
   * is a store failure an earlier step of the same request met (a proxy before the page), which
   * the guard then refuses with, as it would have with its own. `params` are the route's
   * parameters, for the guard's `match`.
   */
  handle<Req>(
    request: VisitRequest,
    session: SessionPort,
    context: RequestContext,
    guard: Guard<Req> | null,
    appRequest: Req,
    failedEarlier: VisitorPassUnavailable | null = null,
    params: Readonly<Record<string, unknown>> | null = null,
  ): MaybePromise<FlowResult> {
    const entered = this.enter(request, session, context, "a session is required");
    if (!guard) return entered;
    const guardAfter = (result: FlowResult): MaybePromise<FlowResult> => {
      if (result.kind === "respond") return result;
      const guarded = this.guard(guard, appRequest, result.visitor, {
        visit: request,
        session,
        unavailable: result.unavailable ?? failedEarlier,
        params,
      });
      const merge = (outcome: FlowResult): FlowResult =>
        outcome.kind === "continue" ? { ...outcome, hideToken: result.hideToken } : outcome;
      return guarded instanceof Promise ? guarded.then(merge) : merge(guarded);
    };
    return entered instanceof Promise ? entered.then(guardAfter) : guardAfter(entered);
  }

  /** `url` without the visitor token: what the app, its logs and its routes see. */
  withoutToken(url: string): string {
    return stripToken(url, this.config.querystringKey);
  }

  /**
   * Ends visitor access for this session; `visitor`: the one `clearVisitor()` ends, which is told
   * to the app when the session held a pass.
   */
  clear(session: SessionPort, visitor?: Visitor | null): void {
    if (visitor && this.#stash.holdsAny(session)) {
      this.#backend.cleared(visitor);
      if (this.#debug) this.#debug.cleared(visitor);
    }
    this.#stash.clear(session);
  }

  /** Records a visit a guard let through (`Continue#log`) with its final status code. */
  recordPending(pending: PendingVisit, status: number): void {
    this.#backend.recordVisit(pending.visitor, pending.visit, pending.sessionId, status);
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

/**
 * A request that got no session: anonymous when its target is not a path (`OPTIONS *`, an
 * absolute URL), which session middlewares pass by as their cookie path does not match; else the
 * session layer is missing, a setup error.
 */
function withoutSession(request: VisitRequest, missingSession: string): Continue {
  if (!isOriginForm(request.url)) return ANONYMOUS;
  throw setupError(missingSession);
}

function recognitionResult(recognition: Recognition): FlowResult {
  switch (recognition.kind) {
    case "none":
      return ANONYMOUS;
    case "malformed":
    case "confirm":
    case "throttled":
    case "freshLink":
      return page(recognition.page);
    default:
      return {
        kind: "continue",
        visitor: recognition.kind === "admitted" ? recognition.visitor : null,
        hideToken: true,
        unavailable: recognition.kind === "unavailable" ? recognition.error : null,
        recognition,
        log: null,
        headers: null,
      };
  }
}

function page(answer: PageResponse): Respond {
  return {
    kind: "respond",
    status: answer.status,
    headers: answer.headers,
    body: answer.body,
    location: null,
    error: null,
    visitor: null,
  };
}

function redirect(
  status: number,
  location: string,
  visitor: Visitor | null,
  headers?: Readonly<Record<string, string>>,
): Respond {
  return {
    kind: "respond",
    status,
    headers: { ...headers, Location: location },
    body: null,
    location,
    error: null,
    visitor,
  };
}

function goOn(visitor: Visitor | null): Continue {
  if (visitor === null) return ANONYMOUS;
  return {
    kind: "continue",
    visitor,
    hideToken: false,
    unavailable: null,
    recognition: NO_TOKEN,
    log: null,
    headers: null,
  };
}

function withHiddenToken(result: FlowResult): FlowResult {
  return result.kind === "continue" ? { ...result, hideToken: true } : result;
}

function unavailableResult(error: VisitorPassUnavailable): Continue {
  return { ...ANONYMOUS, unavailable: error };
}

function failed(error: unknown): Continue {
  return unavailableResult(unavailable(error));
}
