import { cacheControl } from "./config.js";
import { VisitorAccessDenied, VisitorPassConfigError } from "./errors.js";
import type { Visitor } from "./visitor.js";

/** `"*"`: a guard with this scope admits a visitor of any scope. */
export const SCOPE_ANY = "*";

/**
 * A value, or a promise of it. The request path answers synchronously whenever it has nothing to
 * wait for (no token, a pass the cache holds): most requests then cost no promise at all.
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * What a guard's `match` is told of the request: framework-free, the same in every adapter.
 *
 * @example
 * ```ts
 * const match = (visitor: Visitor, request: MatchRequest) =>
 *   request.method === "GET" && visitor.context?.referenceId === request.params.id;
 * ```
 */
export interface MatchRequest {
  /** The method, in capitals. */
  readonly method: string;
  /** The path as requested (not percent-decoded), without the query string. */
  readonly path: string;
  /** The query string, without the visitor token. */
  readonly query: URLSearchParams;
  /**
   * The route's parameters as the framework decoded them (Express `req.params`, Fastify
   * `request.params`, Hono `c.req.param()`, NestJS on either, the Fetch entry point's `params`
   * option, Next.js `withVisitor`'s `context.params`); empty where the framework has none
   * (Next.js `requireVisitor`, a Fetch `handle` given none). Only string values are kept.
   */
  readonly params: Readonly<Record<string, string>>;
}

/** Headers a guard's admitted responses get, unless they already have them; null: none. */
export type GuardHeaders = Readonly<Record<string, string>> | null;

export function cacheHeaders(value: string | false): GuardHeaders {
  return value === false ? null : Object.freeze({ "Cache-Control": value });
}

/**
 * Options of `userIsVisitor()`, the guard of a route, in every adapter.
 *
 * @example
 * ```ts
 * userIsVisitor({
 *   scope: "REFERENCE_REQUEST",
 *   bypass: (req) => req.session.user?.isStaff === true, // staff see the pages too
 *   logVisit: true, // one VisitorLog row per visit (the default)
 * });
 * userIsVisitor({ scope: "EARLY_ACCESS", selfService: true }); // no pass: the self-service form
 * // Ginger's pass is for reference 42 and nothing else (`/references/:id`):
 * userIsVisitor({
 *   scope: "REFERENCE_REQUEST",
 *   match: (visitor, request) => visitor.context?.referenceId === request.params.id,
 * });
 * ```
 */
export interface GuardOptions<Req> {
  /** The scope a visitor's pass must have; `SCOPE_ANY` admits every scope. */
  scope: string;
  /**
   * Narrows the pass to a resource: a visitor of the guard's scope is admitted only when this
   * returns `true` for the request (e.g. `(v, r) => v.context?.referenceId === r.params.id`).
   * Anything else — `false`, another value, a throw or a rejection (logged through `logger`) —
   * refuses with 403 `VisitorAccessDenied`, as a scope mismatch does, and logs no visit; such a
   * visitor is never sent to self-service (`bypass` is still asked). Decided by the core, the
   * same in every adapter.
   */
  match?: (visitor: Visitor, request: MatchRequest) => boolean | Promise<boolean>;
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

/** Why a guard refused: no visitor of its scope, or its `match` did not return true. */
export type RefusalReason = "scope" | "match";

export type GuardDecision =
  | { allow: true; log: boolean }
  | {
      allow: false;
      selfService: boolean;
      error: VisitorAccessDenied;
      reason: RefusalReason;
      /** What `match` threw (or rejected with), to report; absent when it answered. */
      thrown?: unknown;
    };

/** A guard checked at setup, deciding per request. */
export interface Guard<Req> {
  readonly scope: string;
  readonly options: GuardOptions<Req>;
  /** Headers of its own for admitted responses (`cacheControl`); `undefined`: the default. */
  readonly headers?: GuardHeaders;
  /** Whether it has a `match`, which `decide` then asks of `target()`. */
  readonly matches: boolean;
  /**
   * Synchronous unless `match` or `bypass` is asked and answers with a promise; rejects when
   * `bypass` throws (a throwing `match` refuses). `target` is read only when `match` is asked.
   */
  decide(
    request: Req,
    visitor: Visitor | null,
    target?: () => MatchRequest,
  ): MaybePromise<GuardDecision>;
}

const LOGGED: GuardDecision = Object.freeze({ allow: true, log: true });
/** Admitted without a visit log: `logVisit: false`, or let through by `bypass`. */
const UNLOGGED: GuardDecision = Object.freeze({ allow: true, log: false });

/**
 * A guard from its options, checked now: throws `VisitorPassConfigError` for a missing scope, a
 * `bypass` that is not a function, or a self-service guard of `SCOPE_ANY`.
 */
export function createGuard<Req>(options: GuardOptions<Req>): Guard<Req> {
  const scope = options?.scope;
  if (typeof scope !== "string" || scope.trim() === "") {
    throw new VisitorPassConfigError("scope", scope, "userIsVisitor() needs a non-empty scope");
  }
  for (const name of ["bypass", "match"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new VisitorPassConfigError(name, options[name], "must be a function");
    }
  }
  const { match } = options;
  const log = options.logVisit !== false;
  const selfService = options.selfService === true;
  const headers =
    options.cacheControl === undefined
      ? undefined
      : cacheHeaders(cacheControl("cacheControl", options.cacheControl));
  if (selfService && scope === SCOPE_ANY) {
    throw new VisitorPassConfigError("scope", scope, "a self-service guard needs a specific scope");
  }
  const refused = (reason: RefusalReason, thrown?: unknown): GuardDecision => {
    const decision: GuardDecision = {
      allow: false,
      // A visitor of the scope whom `match` refused has a pass: a new one would not help.
      selfService: selfService && reason === "scope",
      error: new VisitorAccessDenied(scope),
      reason,
    };
    if (thrown !== undefined) decision.thrown = thrown;
    return decision;
  };
  /** Let through by `bypass`, or refused for `reason` (the error built only then). */
  const bypassOr = (
    request: Req,
    reason: RefusalReason,
    thrown?: unknown,
  ): MaybePromise<GuardDecision> => {
    const decided = (bypassed: unknown): GuardDecision =>
      bypassed ? UNLOGGED : refused(reason, thrown);
    if (!options.bypass) return refused(reason, thrown);
    let bypassed: unknown;
    try {
      bypassed = options.bypass(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return isThenable(bypassed) ? Promise.resolve(bypassed).then(decided) : decided(bypassed);
  };
  const admitted = log ? LOGGED : UNLOGGED;
  return {
    scope,
    options,
    headers,
    matches: match !== undefined,
    decide(request, visitor, target) {
      if (!visitor || (scope !== SCOPE_ANY && visitor.scope !== scope)) {
        return bypassOr(request, "scope");
      }
      if (!match) return admitted;
      // Only `true` admits: anything else, a throw included, fails closed.
      const matched = (answer: unknown): MaybePromise<GuardDecision> =>
        answer === true ? admitted : bypassOr(request, "match");
      const threw = (error: unknown): MaybePromise<GuardDecision> =>
        bypassOr(request, "match", error ?? new Error(String(error)));
      let answer: unknown;
      try {
        answer = match(visitor, target ? target() : noTarget());
      } catch (error) {
        return threw(error);
      }
      return isThenable(answer) ? Promise.resolve(answer).then(matched, threw) : matched(answer);
    },
  };
}

/** What `match` is told when the caller gave no request view (a direct `decide` call). */
function noTarget(): MatchRequest {
  return Object.freeze({
    method: "GET",
    path: "/",
    query: new URLSearchParams(),
    params: Object.freeze({}),
  });
}

/**
 * The view `match` is given of a request: `url` is its path and query without the token;
 * `params` the framework's route parameters, of which only string values are kept.
 */
export function matchRequest(
  method: string,
  url: string,
  params: Readonly<Record<string, unknown>> | null | undefined,
): MatchRequest {
  const at = url.indexOf("?");
  const kept: Record<string, string> = Object.create(null);
  if (params) {
    for (const name of Object.keys(params)) {
      const value = params[name];
      if (typeof value === "string") kept[name] = value;
    }
  }
  return Object.freeze({
    method: method.toUpperCase(),
    path: at === -1 ? url : url.slice(0, at),
    query: new URLSearchParams(at === -1 ? "" : url.slice(at + 1)),
    params: Object.freeze(kept),
  });
}

/** Guards by the options object that describes them: checked once, not on every request. */
const GUARDS = new WeakMap<object, Guard<never>>();

/**
 * The guard `options` describe, checked on first use and kept: for entry points that take a
 * guard's options per request (the Fetch entry point's `handle`) rather than once at setup.
 */
export function guardOf<Req>(options: GuardOptions<Req>): Guard<Req> {
  let guard = GUARDS.get(options) as Guard<Req> | undefined;
  if (!guard) {
    guard = createGuard(options);
    GUARDS.set(options, guard as Guard<never>);
  }
  return guard;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}
