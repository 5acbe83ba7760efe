import { RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";
import { VisitorPassConfigError } from "./errors.js";
import { networkOf } from "./network.js";

/** How many attempts a client network may make: `points` per `duration` seconds. */
export interface ThrottleLimit {
  /** Attempts allowed in one window (a whole number, 1 or more). */
  points: number;
  /** Length of the window, in whole seconds. */
  duration: number;
}

/** The throttled paths, each with a budget of its own. */
export type ThrottleBudgetName =
  | "landing"
  | "selfService"
  | "selfServiceForm"
  | "freshLink"
  | "freshLinkPass"
  | "freshLinkAddress";

/** One budget as a store is asked to count it. */
export interface ThrottleBudget extends ThrottleLimit {
  /** Which budget, to keep its counts apart from the others' (e.g. as a key prefix). */
  name: ThrottleBudgetName;
}

/** What counting one attempt came to. */
export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfter: number };

/** Counts attempts per key within one budget. */
export interface ThrottleLimiter {
  /**
   * Counts `points` attempts (one by default) by `key`. Refused: `retryAfter` is how many seconds
   * until one would be allowed. With `points` 0 it counts nothing and only tells whether `key`
   * has used its whole budget (refused then). Rejects only when the counts cannot be reached
   * (then the request is refused as unavailable, never let through uncounted).
   */
  consume(key: string, points?: number): Promise<ThrottleVerdict>;
}

/**
 * Where the counts are kept: the built-in store keeps them in this process's memory; a shared one
 * (Redis, SQL) makes the limits hold across processes. See `rateLimiterStore`.
 */
export interface ThrottleStore {
  limiter(budget: ThrottleBudget): ThrottleLimiter;
}

/** The part of a rate-limiter-flexible limiter (`RateLimiterRedis`, `RateLimiterPostgres`, …) used. */
export interface RateLimiterLike {
  consume(key: string, points?: number): Promise<unknown>;
}

/**
 * A throttle store over rate-limiter-flexible: `create` builds a limiter for one budget, e.g.
 * `rateLimiterStore((b) => new RateLimiterRedis({ storeClient, keyPrefix: `vp:${b.name}`,
 * points: b.points, duration: b.duration }))`.
 *
 * @example
 * ```ts
 * import { RateLimiterRedis } from "rate-limiter-flexible";
 * import { createVisitorPass, rateLimiterStore } from "visitor-pass";
 *
 * const store = rateLimiterStore(
 *   (budget) =>
 *     new RateLimiterRedis({
 *       storeClient: redis, // a connected node-redis client
 *       useRedisPackage: true,
 *       keyPrefix: `vp:${budget.name}`,
 *       points: budget.points,
 *       duration: budget.duration,
 *     }),
 * );
 * const passes = createVisitorPass({ throttle: { store } });
 * ```
 */
export function rateLimiterStore(
  create: (budget: ThrottleBudget) => RateLimiterLike,
): ThrottleStore {
  return {
    limiter(budget) {
      const limiter = create(budget);
      return {
        async consume(key, points = 1) {
          try {
            const result = await limiter.consume(key, points);
            // Asked without counting: refused once the whole budget is used.
            const used = Number((result as { consumedPoints?: unknown } | null)?.consumedPoints);
            if (points === 0 && used >= budget.points) {
              const ms = Number((result as { msBeforeNext?: unknown }).msBeforeNext);
              return { allowed: false, retryAfter: retryAfterOf(ms, budget) };
            }
            return ALLOWED;
          } catch (refusal) {
            // rate-limiter-flexible rejects with its result when over the limit, with an Error
            // when its store fails.
            if (refusal instanceof Error || typeof refusal !== "object" || refusal === null) {
              throw refusal;
            }
            const ms = Number((refusal as { msBeforeNext?: unknown }).msBeforeNext);
            return { allowed: false, retryAfter: retryAfterOf(ms, budget) };
          }
        },
      };
    },
  };
}

function retryAfterOf(ms: number, budget: ThrottleBudget): number {
  return Math.max(
    1,
    Math.ceil((Number.isFinite(ms) && ms > 0 ? ms : budget.duration * 1000) / 1000),
  );
}

/**
 * The default store: counts in this process's memory (each process has its own budget).
 *
 * @example
 * ```ts
 * import { createVisitorPass, memoryThrottleStore } from "visitor-pass";
 *
 * // The default, spelled out: each process counts on its own.
 * createVisitorPass({ throttle: { store: memoryThrottleStore() } });
 * ```
 */
export function memoryThrottleStore(): ThrottleStore {
  return rateLimiterStore(
    (budget) =>
      new RateLimiterMemory({
        keyPrefix: budget.name,
        points: budget.points,
        duration: budget.duration,
      }),
  );
}

/**
 * A connected Redis client, as far as this package tells one from something else: a client of
 * the `redis` package (node-redis) or of `ioredis`.
 */
export interface RedisClientLike {
  /** node-redis. */
  sendCommand?: (...args: never[]) => unknown;
  /** ioredis. */
  defineCommand?: (...args: never[]) => unknown;
}

/**
 * The `throttle.store` shorthand for counts in Redis: `{ redis: client }`.
 *
 * @example
 * ```ts
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * createVisitorPass({ throttle: { store: { redis, keyPrefix: "myapp:throttle" } } });
 * ```
 */
export interface RedisThrottleStoreOptions {
  /** A connected client of the `redis` package (node-redis) or of `ioredis`; the app owns it. */
  redis: RedisClientLike;
  /** Prefix of the keys the counts are kept under, then the budget's name. @default "visitor-pass:" */
  keyPrefix?: string;
}

/**
 * A throttle store keeping the counts in Redis (rate-limiter-flexible's `RateLimiterRedis`), so
 * that every process sharing the Redis shares each network's budget. The app connects and
 * closes the client.
 * @example
 * ```ts
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * createVisitorPass({ throttle: { store: redisThrottleStore({ redis }) } });
 * // the same: createVisitorPass({ throttle: { store: { redis } } });
 * ```
 */
export function redisThrottleStore({
  redis,
  keyPrefix = "visitor-pass:",
}: RedisThrottleStoreOptions): ThrottleStore {
  // ioredis defines commands of its own; node-redis must be told it is node-redis.
  const useRedisPackage = typeof redis.defineCommand !== "function";
  return rateLimiterStore(
    (budget) =>
      new RateLimiterRedis({
        storeClient: redis,
        useRedisPackage,
        keyPrefix: `${keyPrefix}${budget.name}`,
        points: budget.points,
        duration: budget.duration,
      }),
  );
}

/** Whether `value` is the `{ redis: client }` shorthand of `throttle.store`. */
export function isRedisThrottleStoreOptions(value: unknown): value is RedisThrottleStoreOptions {
  const redis = (value as Partial<RedisThrottleStoreOptions> | null)?.redis;
  return (
    typeof redis === "object" &&
    redis !== null &&
    (typeof redis.sendCommand === "function" || typeof redis.defineCommand === "function")
  );
}

const ALLOWED: ThrottleVerdict = Object.freeze({ allowed: true });

/** The throttles as configured: `throttle: false` in the options, or its budgets. */
export type ResolvedThrottle =
  | false
  | {
      budgets: Readonly<Record<ThrottleBudgetName, ThrottleLimit | false>>;
      /** `"database"`: the pass store's own (`VisitorStore#throttleStore`), given to `Throttles`. */
      store: ThrottleStore | "database";
    };

/**
 * The budgets of one pass service, each counted per client network (/24 for IPv4, /48 for IPv6),
 * so that one machine cannot dodge its limit by changing its address within its network.
 * Requests whose client address is unknown share one budget.
 */
export class Throttles {
  readonly #limiters = new Map<ThrottleBudgetName, ThrottleLimiter | null>();
  readonly #store: ThrottleStore | null;

  /** `database`: the counts of `throttle: { store: "database" }`, from the pass store. */
  constructor(
    readonly config: ResolvedThrottle,
    database?: ThrottleStore,
  ) {
    if (config === false) this.#store = null;
    else if (config.store !== "database") this.#store = config.store;
    else if (database) this.#store = database;
    else {
      throw new VisitorPassConfigError(
        "throttle.store",
        "database",
        "this store keeps no throttle counts (it has no throttleStore()): give a throttle store instead",
      );
    }
  }

  /**
   * Counts `points` attempts (one by default) from `ip`: `null` when allowed, else the seconds
   * to wait. With `points` 0, counts nothing: whether the budget is used up.
   */
  async consume(name: ThrottleBudgetName, ip: string | null, points = 1): Promise<number | null> {
    return this.consumeKey(name, ip ? networkOf(ip) : "unknown", points);
  }

  /**
   * As `consume`, counted by `key` itself rather than a client network: a pass, an address.
   * `null` when allowed, else the seconds to wait.
   */
  async consumeKey(name: ThrottleBudgetName, key: string, points = 1): Promise<number | null> {
    const limiter = this.#limiter(name);
    if (!limiter) return null;
    const verdict = await (points === 1 ? limiter.consume(key) : limiter.consume(key, points));
    return verdict.allowed ? null : verdict.retryAfter;
  }

  #limiter(name: ThrottleBudgetName): ThrottleLimiter | null {
    let limiter = this.#limiters.get(name);
    if (limiter === undefined) {
      const budget = this.config === false ? false : this.config.budgets[name];
      limiter =
        this.#store === null || budget === false ? null : this.#store.limiter({ name, ...budget });
      this.#limiters.set(name, limiter);
    }
    return limiter;
  }
}
