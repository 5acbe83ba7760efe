import type { ResolvedConfig } from "./config.js";
import { VisitorAccessDenied, VisitorPassConfigError } from "./errors.js";
import { isUuid, pathOf, queryWithout, readToken } from "./tokens.js";
import type { Visitor } from "./visitor.js";

/** `"*"`: a guard with this scope admits a visitor of any scope. */
export const SCOPE_ANY = "*";

/** What the core needs to know of a request; each adapter fills it from its framework. */
export interface VisitRequest {
  method: string;
  /** The URL as requested: path and query string. */
  url: string;
  userAgent: string | null;
  referer: string | null;
  /** The client address, as the framework resolves it (proxies trusted as the app configured). */
  ip: string | null;
}

/** The session as the core uses it; each adapter implements it over its framework's session. */
export interface SessionPort {
  /** The session's id, recorded in visit logs; `null` when the session has none. */
  readonly id: string | null;
  get(key: string): unknown;
  set(key: string, value: string): void;
  delete(key: string): void;
  /** Makes the session cookie live `seconds` from now; `0` makes it end with the browser. */
  setCookieLifetime(seconds: number): void;
}

/** What the request flow asks of the pass service (implemented by `VisitorPass`). */
export interface FlowBackend {
  readonly config: ResolvedConfig;
  find(uuid: string): Promise<Visitor | null>;
  spendUse(uuid: string): Promise<Visitor | null>;
  recordVisit(
    visitor: Visitor,
    request: VisitRequest,
    sessionId: string | null,
    status: number,
  ): void;
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
}

export type GuardDecision =
  | { allow: true; log: boolean }
  | { allow: false; selfService: boolean; error: VisitorAccessDenied };

/** A guard checked at setup, deciding per request. */
export interface Guard<Req> {
  readonly scope: string;
  readonly options: GuardOptions<Req>;
  decide(request: Req, visitor: Visitor | null): Promise<GuardDecision>;
}

/**
 * The request flow, written once for every framework: token → pass → admit; stash into and
 * restore from the session; the guard's decision; the visit log.
 */
export class VisitorFlow {
  readonly #backend: FlowBackend;

  constructor(backend: FlowBackend) {
    this.#backend = backend;
  }

  get config(): ResolvedConfig {
    return this.#backend.config;
  }

  /** The token on `url`, `null` without one; throws `MalformedVisitorToken` for a bad one. */
  tokenFrom(url: string): string | null {
    return readToken(url, this.config.querystringKey);
  }

  /**
   * Admits the holder of `token`: the pass, with one use spent, or `null` when it is unknown,
   * inactive, expired or used up. A session that already holds this very pass spends nothing.
   */
  async admit(token: string, session?: SessionPort | null): Promise<Visitor | null> {
    if (session && session.get(this.config.sessionKey) === token) {
      const held = await this.#backend.find(token);
      if (held?.isActive) return held;
    }
    return this.#backend.spendUse(token);
  }

  /** Keeps a newly admitted visitor in the session, with the pass's cookie lifetime. */
  stash(session: SessionPort, visitor: Visitor, options: { authenticated: boolean }): void {
    session.set(this.config.sessionKey, visitor.uuid);
    if (!options.authenticated && visitor.sessionExpiry !== null) {
      session.setCookieLifetime(visitor.sessionExpiry);
    }
  }

  /**
   * The visitor held by the session while the pass stays active (even after the link expired);
   * a held uuid whose pass is gone, inactive or that was tampered with is removed.
   */
  async restore(session: SessionPort): Promise<Visitor | null> {
    const held = session.get(this.config.sessionKey);
    if (held === undefined || held === null) return null;
    const visitor = isUuid(held) ? await this.#backend.find(held.toLowerCase()) : null;
    if (visitor?.isActive) return visitor;
    session.delete(this.config.sessionKey);
    return null;
  }

  /** Ends visitor access for this session. */
  clear(session: SessionPort): void {
    session.delete(this.config.sessionKey);
  }

  /** A guard for `options`; throws `VisitorPassConfigError` at setup for an empty scope. */
  guard<Req>(options: GuardOptions<Req>): Guard<Req> {
    return createGuard(options);
  }

  /** Records a guarded visit with its final status code. Never throws; never blocks the response. */
  recordVisit(
    visitor: Visitor,
    request: VisitRequest,
    session: SessionPort | null,
    status: number,
  ): void {
    this.#backend.recordVisit(visitor, request, session?.id ?? null, status);
  }

  /** The stored form of a request's path and query (token removed), bounded in length. */
  describe(request: VisitRequest): { path: string; query: string } {
    return {
      path: clip(pathOf(request.url), 2000) || "/",
      query: clip(queryWithout(request.url, this.config.querystringKey), 2000),
    };
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
  return {
    scope,
    options,
    async decide(request, visitor) {
      if (visitor && (scope === SCOPE_ANY || visitor.scope === scope)) return { allow: true, log };
      if (options.bypass && (await options.bypass(request))) return { allow: true, log: false };
      return { allow: false, selfService, error: new VisitorAccessDenied(scope) };
    },
  };
}

export function clip(value: string, length: number): string {
  return value.length > length ? value.slice(0, length) : value;
}
