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
 * ```
 */
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

/** A guard checked at setup, deciding per request. */
export interface Guard<Req> {
  readonly scope: string;
  readonly options: GuardOptions<Req>;
  /** Headers of its own for admitted responses (`cacheControl`); `undefined`: the default. */
  readonly headers?: GuardHeaders;
  /** Synchronous unless `bypass` is asked and answers with a promise; rejects when it throws. */
  decide(request: Req, visitor: Visitor | null): MaybePromise<GuardDecision>;
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
