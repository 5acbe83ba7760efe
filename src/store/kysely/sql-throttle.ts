import type { DatabaseTarget } from "../../core/config.js";
import { VisitorPassConfigError } from "../../core/errors.js";
import {
  memoryThrottleStore,
  type RateLimiterLike,
  rateLimiterStore,
  type ThrottleBudget,
  type ThrottleStore,
} from "../../core/throttle.js";
import { withDeadline } from "./store-deadline.js";

/** A throttle store on the pass database, and how to let go of its connection. */
export interface SqlThrottleStore extends ThrottleStore {
  close(): Promise<void>;
}

/** The client a rate-limiter-flexible SQL limiter is given, and how to close it. */
interface ThrottleClient {
  create(budget: ThrottleBudget, ready: (error?: unknown) => void): RateLimiterLike;
  close(): Promise<void>;
}

/**
 * The `throttle: { store: "database" }` counts: rate-limiter-flexible's own SQL limiters
 * (`RateLimiterSQLite`, `RateLimiterPostgres`, `RateLimiterMySQL`) on the pass database, in one
 * table (`<tablePrefix>throttle`, created on first use by the library) shared by every process
 * using that database. They get a connection of their own (at most two on a server), opened on
 * the first count; each count is bounded by `storeTimeout`, so that a silent database refuses the
 * request as unavailable instead of holding it. An in-memory SQLite database is one process's
 * anyway: its counts stay in memory.
 */
export function sqlThrottleStore(
  target: DatabaseTarget,
  tablePrefix: string,
  storeTimeout: number,
): SqlThrottleStore {
  if (target.kind === "kysely" || target.kind === "store") {
    throw new VisitorPassConfigError(
      "throttle.store",
      "database",
      "needs a database URL (sqlite:, postgres://, mysql://): the counts get a connection of their own",
    );
  }
  if (target.kind === "sqlite" && target.filename === ":memory:") {
    return { ...memoryThrottleStore(), close: async () => {} };
  }
  const tableName = `${tablePrefix}throttle`;
  let client: Promise<ThrottleClient> | null = null;
  const open = () => {
    client ??= openClient(target, tableName, storeTimeout);
    return client;
  };
  const store = rateLimiterStore((budget) => {
    let limiter: Promise<RateLimiterLike> | null = null;
    const ready = () => {
      limiter ??= open().then(
        (opened) =>
          new Promise<RateLimiterLike>((resolve, reject) => {
            const created = opened.create(budget, (error) =>
              error ? reject(error) : resolve(created),
            );
          }),
      );
      // A failed start (the database down at the first count) is tried again at the next.
      limiter.catch(() => {
        limiter = null;
      });
      return limiter;
    };
    return {
      consume: (key, points) =>
        withDeadline(storeTimeout, async () => (await ready()).consume(key, points)),
    };
  });
  return {
    limiter: store.limiter,
    async close() {
      const opened = client;
      client = null;
      await (await opened?.catch(() => null))?.close();
    },
  };
}

async function openClient(
  target: Exclude<DatabaseTarget, { kind: "kysely" } | { kind: "store" }>,
  tableName: string,
  storeTimeout: number,
): Promise<ThrottleClient> {
  const rlf = await import("rate-limiter-flexible");
  const common = (budget: ThrottleBudget) => ({
    keyPrefix: budget.name,
    points: budget.points,
    duration: budget.duration,
    tableName,
    tableCreated: false,
    clearExpiredByTimeout: true,
  });
  switch (target.kind) {
    case "sqlite": {
      const { default: Sqlite } = await import(
        /* webpackIgnore: true */ /* turbopackIgnore: true */ "better-sqlite3"
      );
      const database = new Sqlite(target.filename, { timeout: storeTimeout });
      return {
        create: (budget, ready) =>
          new rlf.RateLimiterSQLite(
            { ...common(budget), storeClient: database, storeType: "better-sqlite3" },
            ready,
          ),
        close: async () => {
          database.close();
        },
      };
    }
    case "postgres": {
      const { default: pg } = await import(
        /* webpackIgnore: true */ /* turbopackIgnore: true */ "pg"
      );
      const pool = new pg.Pool({
        connectionString: target.url,
        max: 2,
        connectionTimeoutMillis: storeTimeout,
        query_timeout: storeTimeout,
      });
      pool.on("error", () => {});
      return {
        create: (budget, ready) =>
          new rlf.RateLimiterPostgres(
            { ...common(budget), storeClient: pool, storeType: "pool" },
            ready,
          ),
        close: () => pool.end(),
      };
    }
    case "mysql": {
      const mysql = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "mysql2");
      const pool = mysql.createPool({
        uri: target.url,
        connectionLimit: 2,
        connectTimeout: storeTimeout,
      });
      pool.on("connection", (connection) => connection.on("error", () => {}));
      const dbName = decodeURIComponent(new URL(target.url).pathname.slice(1));
      return {
        create: (budget, ready) =>
          new rlf.RateLimiterMySQL(
            { ...common(budget), storeClient: pool, storeType: "pool", dbName },
            ready,
          ),
        close: () => new Promise<void>((resolve) => pool.end(() => resolve())),
      };
    }
  }
}
