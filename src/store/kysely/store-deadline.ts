import { AsyncLocalStorage } from "node:async_hooks";
import type { StoreDialect } from "./dialects.js";
import { storageFull } from "./storage-full.js";

/**
 * Deadlines of store calls, for the database clients this package opens. A call run by
 * `withDeadline` fails once its time is up, whatever its driver does; the drivers read how long
 * is left (`timeLeft`) to bound each query they send for it, and to close a connection whose
 * query went unanswered (a silent network keeps it open, desynchronised, forever).
 */

interface Deadline {
  /** When (`performance.now()`) the store call in progress must have been answered. */
  at: number;
  /** The time it was given, in ms. */
  ms: number;
}

const deadlines = new AsyncLocalStorage<Deadline>();

/**
 * The database did not answer a store call in time. Not one of the package's own errors: the
 * request flow turns it into `VisitorPassUnavailable`, as it does a refused connection.
 */
export class StoreTimeoutError extends Error {
  override readonly name = "StoreTimeoutError";
  readonly code = "VISITOR_PASS_STORE_TIMEOUT";

  constructor(readonly timeout: number) {
    super(`the database did not answer within ${timeout} ms`);
  }
}

/** Runs `call`, rejecting with `StoreTimeoutError` when it has not settled within `ms`. */
export function withDeadline<T>(ms: number, call: () => Promise<T>): Promise<T> {
  const deadline = { at: performance.now() + ms, ms };
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreTimeoutError(ms)), ms);
    deadlines.run(deadline, call).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Milliseconds left to the store call in progress (zero or less once it is past), or `undefined`
 * outside `withDeadline` (migrations, purges, reports: no deadline).
 */
export function timeLeft(): number | undefined {
  const deadline = deadlines.getStore();
  return deadline === undefined ? undefined : deadline.at - performance.now();
}

/** The error of the store call in progress once its time is up. */
export function overdue(): StoreTimeoutError {
  return new StoreTimeoutError(deadlines.getStore()?.ms ?? 0);
}

/** Runs a store call within its deadline, where it has one. */
export type Bounded = <T>(call: () => Promise<T>) => Promise<T>;

/**
 * How the store calls that touch one pass or write visits run on `dialect`'s database: within
 * `storeTimeout` where it has a call deadline (`StoreDialect#callDeadline`), a full disk named
 * `VisitorPassStorageFull`; as they are elsewhere. Such calls are each a statement or two on one
 * pass, or one insert of visits: quick unless the database is unreachable. Migrations, purges,
 * listings and reports may take longer, and have none.
 */
export function boundedCalls(dialect: StoreDialect, storeTimeout: number): Bounded {
  if (!dialect.callDeadline) return (call) => call();
  // SQLite names a full disk in its own statements (sqlite-busy-retry.ts); the others here.
  return (call) =>
    withDeadline(storeTimeout, call).catch((error: unknown) => {
      throw storageFull(dialect, error) ?? error;
    });
}
