import { VisitorPassConfigError } from "./errors.js";
import {
  type FreshLinkPageRenderer,
  type FreshLinksOptions,
  type ResolvedFreshLinks,
  resolveFreshLinks,
} from "./fresh-link-options.js";
import {
  type ConfirmPageContext,
  type ConfirmPageRenderer,
  VISITOR_STORE_METHODS,
  type VisitorStore,
} from "./ports.js";
import type { SendLink } from "./send-link.js";
import {
  type ResolvedSharingThresholds,
  resolveSharingThresholds,
  type SharingThresholds,
} from "./sharing.js";
import {
  isRedisThrottleStoreOptions,
  memoryThrottleStore,
  type RedisThrottleStoreOptions,
  type ResolvedThrottle,
  redisThrottleStore,
  type ThrottleBudgetName,
  type ThrottleLimit,
  type ThrottleStore,
} from "./throttle.js";
import type { Visitor } from "./visitor.js";

export type {
  FreshLinkPageContext,
  FreshLinkPageRenderer,
  FreshLinksOptions,
  ResolvedFreshLinks,
} from "./fresh-link-options.js";
export type { ConfirmPageContext } from "./ports.js";

/**
 * A query-builder instance the store is handed (a `Kysely` instance), as far as the core needs to
 * tell one from a URL: the core never uses it.
 */
export interface DatabaseInstance {
  selectFrom(...args: never[]): unknown;
  getExecutor(): unknown;
}

/** Options of `createVisitorPass()`. Each falls back to its environment variable, then its default. */
export interface VisitorPassOptions {
  /**
   * Where passes are stored: `sqlite:<file>`, `sqlite::memory:`, `postgres://…`, `postgresql://…`,
   * `mysql://…`, or a `Kysely` instance the app already has (the app then owns and closes it).
   * @default process.env.VISITOR_PASS_DATABASE_URL ?? "sqlite:visitor-pass.sqlite3"
   */
  database?: string | DatabaseInstance;
  /**
   * A store implementing the storage ports (`VisitorStore`), in place of `database`: passes are
   * kept wherever it keeps them, and `close()` closes it. Give one or the other, not both.
   * @default undefined (the SQL store opened on `database`)
   * @example
   * ```ts
   * createVisitorPass({ store: new MyVisitorStore() }); // implements VisitorStore
   * ```
   */
  store?: VisitorStore;
  /**
   * Session key that holds the stashed visitor uuid.
   * @default process.env.VISITOR_SESSION_KEY ?? "visitor:session"
   * @example
   * ```ts
   * createVisitorPass({ sessionKey: "app:visitor" });
   * ```
   */
  sessionKey?: string;
  /**
   * Seconds a visitor's session cookie lives, the default for new passes. `0` makes it a browser
   * session cookie; `null` leaves the app's session policy alone.
   * @default process.env.VISITOR_SESSION_EXPIRY ?? 0
   * @example
   * ```ts
   * createVisitorPass({ sessionExpiry: 3600 }); // a visitor's session lasts an hour from admission
   * ```
   */
  sessionExpiry?: number | null;
  /**
   * Query-string parameter that carries the token.
   * @default process.env.VISITOR_QUERYSTRING_KEY ?? "vuid"
   * @example
   * ```ts
   * createVisitorPass({ querystringKey: "pass" }); // links end in ?pass=<uuid>
   * ```
   */
  querystringKey?: string;
  /**
   * Seconds from creation (or reactivation) after which a link can no longer be used.
   * @default process.env.VISITOR_TOKEN_EXPIRY ?? 300
   * @example
   * ```ts
   * createVisitorPass({ tokenExpiry: 7 * 24 * 3600 }); // links can be used for a week
   * ```
   */
  tokenExpiry?: number;
  /**
   * Where the self-service pages are mounted.
   * @default "/visitors"
   * @example
   * ```ts
   * const passes = createVisitorPass({ selfServicePath: "/ask-for-access" });
   * app.use(passes.config.selfServicePath, selfService(passes)); // Express
   * ```
   */
  selfServicePath?: string;
  /**
   * Email domains the self-service form refuses, each with its subdomains: addresses there cannot
   * receive the link, so a pass sent there proves nothing. Lower-case domain names without "@";
   * `[]` refuses none.
   * @default ["example.com"]
   * @example
   * ```ts
   * createVisitorPass({ selfServiceRefusedDomains: ["example.com", "mailinator.com"] });
   * ```
   */
  selfServiceRefusedDomains?: readonly string[];
  /**
   * Prefix of the table names, so the tables can live in the app's own database.
   * @default "visitor_pass_"
   * @example
   * ```ts
   * createVisitorPass({ database: process.env.DATABASE_URL, tablePrefix: "app_visitor_" });
   * ```
   */
  tablePrefix?: string;
  /**
   * Answer a GET that admits a visitor with a redirect to the same URL without the token, so the
   * token leaves the address bar, history and Referer headers. Turn off only for apps that need
   * the landing page itself to render (see SECURITY.md for the trade-off).
   * @default true
   * @example
   * ```ts
   * createVisitorPass({ landingRedirect: false }); // the landing page renders at the token's URL
   * ```
   */
  landingRedirect?: boolean;
  /**
   * What a token does in a session that already holds a different active visitor, or a signed-in
   * user: `"keep"` ignores the token (safe against planted links), `"replace"` admits the new pass.
   * @default "keep"
   * @example
   * ```ts
   * createVisitorPass({ onConflict: "replace" }); // a new link replaces the pass a session holds
   * ```
   */
  onConflict?: "keep" | "replace";
  /**
   * Client addresses in visit logs: `false` keeps them, `"truncate"` keeps the network only (/24 for
   * IPv4, /48 for IPv6), `"drop"` stores none.
   * @default false
   * @example
   * ```ts
   * createVisitorPass({ anonymizeIp: "truncate" }); // logs keep the /24 or /48 only
   * ```
   */
  anonymizeIp?: false | "truncate" | "drop";
  /**
   * Passes whose link shows a "Continue as …" page (GET) and admits only when it is submitted
   * (POST): for links that must survive mail scanners that fetch them. `true` for every pass, a
   * list of scopes, or a function deciding per pass (e.g. from its context).
   * @default false
   * @example
   * ```ts
   * createVisitorPass({ confirm: ["REFERENCE_REQUEST"] });
   * // Or per pass, from what it was created with:
   * createVisitorPass({ confirm: (visitor) => visitor.context?.sentByEmail === true });
   * ```
   */
  confirm?: boolean | readonly string[] | ((visitor: Visitor) => boolean);
  /**
   * Renders the confirmation page (a whole HTML document) in place of the built-in one.
   * @example
   * ```ts
   * createVisitorPass({
   *   confirm: true,
   *   confirmPage: ({ visitor, action }) => `<!doctype html><title>Continue</title>
   * <form method="post" action="${escapeHtml(action)}">
   *   <button>Continue as ${escapeHtml(visitor.fullName)}</button>
   * </form>`,
   * });
   * ```
   */
  confirmPage?: (context: ConfirmPageContext) => string;
  /**
   * Renders the 429 page (a whole HTML document) of a throttled landing or self-service request,
   * in place of the built-in one; the response keeps its `Retry-After` header. The self-service
   * form's own `pages.throttled`, when given, wins there.
   * @example
   * ```ts
   * createVisitorPass({
   *   throttledPage: ({ retryAfter }) =>
   *     `<!doctype html><title>Slow down</title><p>Try again in ${retryAfter} seconds.</p>`,
   * });
   * ```
   */
  throttledPage?: (context: { retryAfter: number }) => string;
  /**
   * `"hash"` stores only a SHA-256 digest of each token, so a copy of the database lets nobody
   * in. The cost: a link can only be shown when its pass is created, and passes read back without
   * their token (`list()`) carry the digest as `uuid`.
   * @default "plain"
   * @example
   * ```ts
   * const passes = createVisitorPass({ tokenStorage: "hash" });
   * const visitor = await passes.create({ email: "ginger@example.org", scope: "REFERENCE_REQUEST" });
   * const link = passes.tokenise("https://app.example/reference", visitor); // now or never
   * ```
   */
  tokenStorage?: "plain" | "hash";
  /**
   * When the sharing analytics flag a pass as shared: when its visits show MORE distinct
   * sessions, client networks or browser families than these (positive whole numbers).
   * @default { sessions: 2, networks: 2, browsers: 2 }
   * @example
   * ```ts
   * createVisitorPass({ sharingThresholds: { sessions: 3, networks: 2, browsers: 2 } });
   * ```
   */
  sharingThresholds?: SharingThresholds;
  /**
   * Cache pass lookups in memory, so a visitor's requests cost no query.
   *
   * - `true`: only where the store can tell exactly that another connection changed something
   *   (SQLite, through `PRAGMA data_version`, asked at most once every 5 ms; writes of passes
   *   through visitor-pass resolve only once those 5 ms have passed): a deactivation anywhere
   *   still cuts access on the next request, and a hand-written `UPDATE` is felt within 5 ms. On
   *   PostgreSQL and MySQL every lookup is a query.
   * - `"listen"`: on PostgreSQL too (a `postgres://` URL; refused elsewhere, SQLite included),
   *   kept in step by `LISTEN`/`NOTIFY`: a trigger, which `migrate()` installs only with this
   *   setting (and drops without it), announces every change to a pass, by any process or tool,
   *   and each process drops its cache when the notice arrives (usually within a millisecond or
   *   two of the commit); entries also expire after 5 seconds, and nothing is cached while the
   *   listening connection is down. Costs one more connection per process.
   * - `false`: read every pass from the database.
   * @default true
   * @example
   * ```ts
   * createVisitorPass({ database: "postgres://app@db/app", passCache: "listen" });
   * ```
   */
  passCache?: boolean | "listen";
  /**
   * How long (ms) one call to the store may wait before it fails as `VisitorPassUnavailable`
   * (guarded routes then answer 503).
   *
   * - On PostgreSQL and MySQL: looking up a pass, spending one of its uses, creating a pass (a
   *   pending self-service one included) or completing a self-service form, and writing each
   *   batch of visit logs (a batch is kept and tried again). It also bounds opening a connection,
   *   and a connection whose query went unanswered is closed rather than used again; the
   *   connections of a Kysely instance of the app's are the app's to bound. Migrations, purges,
   *   listings and reports have no deadline.
   * - On SQLite: how long a statement waits for a lock another connection holds (a backup, a
   *   `sqlite3` shell left in a transaction, another process's purge). The wait is asynchronous:
   *   other requests, and routes that need no pass, keep being served meanwhile.
   *
   * A whole number from 1 to 600000.
   * @default process.env.VISITOR_PASS_STORE_TIMEOUT ?? 2000
   * @example
   * ```ts
   * createVisitorPass({ storeTimeout: 500 }); // 503 after half a second without the database
   * ```
   */
  storeTimeout?: number;
  /**
   * What a guarded route does while visit logs cannot be written (the database is full, locked
   * past `storeTimeout`, or away). `"serve"`: visitors keep being admitted and their visits are
   * held in memory to be written once the database takes them again (at most 50,000; beyond
   * that the oldest are dropped, and the count reported). `"refuse"`: a guarded route that would
   * log its visit answers 503 (`VisitorPassUnavailable`) until a write succeeds again, so no
   * visit goes unrecorded; routes with `logVisit: false` keep serving. Either way the failure
   * is reported through `logger`, once when it starts, then with a count of the visits
   * affected every minute and when writes recover.
   * @default "serve"
   * @example
   * ```ts
   * createVisitorPass({ onLogFailure: "refuse" }); // no unrecorded visit, ever
   * ```
   */
  onLogFailure?: "serve" | "refuse";
  /**
   * Write a `VisitorLog` for each visit a guard admits. `false` writes none anywhere: guards
   * still admit, `passes.logs()` finds nothing new, the sharing analytics see no new visits, and
   * `onLogFailure: "refuse"` has nothing to refuse for. A guard's own `logVisit: false` turns
   * its logs off under `true`; it cannot turn them on under `false`. The environment variable
   * takes `true`, `false`, `1` or `0`.
   * @default process.env.VISITOR_PASS_LOG_VISITS ?? true
   * @example
   * ```ts
   * createVisitorPass({ logVisits: false }); // admit visitors, keep no record of their visits
   * ```
   */
  logVisits?: boolean;
  /**
   * Where the package reports what needs an operator's attention (visit logs that cannot be
   * written, visits dropped, a shutdown that could not write everything): `warn` and `error`
   * take one line of text each. With a `debug` method too, the request flow's decisions go to it
   * (admitted, restored from the session with its session expiry, refused and why, sent to
   * self-service, cleared), each naming the pass by id and scope, never by its token; without
   * one (the default) none is written, nor built.
   * @default `console.warn` and `console.error`, no debug lines
   * @example
   * ```ts
   * createVisitorPass({
   *   logger: { warn: (message) => log.warn(message), error: (message) => log.error(message) },
   * });
   * createVisitorPass({ logger: { ...console } }); // console, with the debug lines
   * createVisitorPass({ logger: pino() }); // a logging library: its debug level shows them
   * ```
   */
  logger?: VisitorPassLogger;
  /**
   * The `Cache-Control` header of responses a guard (`userIsVisitor`) admitted, so that no shared
   * cache keeps one visitor's page for another; set only when the route (or middleware before the
   * guard) set none of its own. `false` leaves caching to the app. A guard's own `cacheControl`
   * option overrides this.
   * @default "private, no-store"
   * @example
   * ```ts
   * createVisitorPass({ guardCacheControl: "private, max-age=0, must-revalidate" });
   * ```
   */
  guardCacheControl?: string | false;
  /**
   * Limits on unauthenticated paths, counted per client network (/24 for IPv4, /48 for IPv6);
   * over a limit the answer is 429 with `Retry-After`. `false` turns every throttle off, the bound
   * on pending self-service passes included. See `ThrottleOptions` for each budget.
   * @default { landing: { points: 30, duration: 60 }, selfService: { points: 10, duration: 60 }, selfServiceForm: { points: 20, duration: 60 }, freshLink: { points: 10, duration: 3600 }, freshLinkPass: { points: 3, duration: 3600 }, freshLinkAddress: { points: 5, duration: 3600 } }
   * @example
   * ```ts
   * createVisitorPass({ throttle: { landing: { points: 100, duration: 60 }, selfServiceForm: false } });
   * ```
   */
  throttle?: false | ThrottleOptions;
  /**
   * How the app sends a visitor a link (fresh links, self-service): given the visitor and the
   * absolute URL, it sends to `visitor.email` only. Called after the request that caused it was
   * answered; a rejection goes to `logger`. With it, a completed self-service form sends the
   * visitor their link (built on `baseUrl`). `mailSender()` from `visitor-pass/mail` is one.
   * @default none (nothing is sent, unless to the development `outbox`)
   * @example
   * ```ts
   * createVisitorPass({
   *   sendLink: async ({ visitor, url }) => mailer.send({ to: visitor.email, text: url }),
   * });
   * ```
   */
  sendLink?: SendLink;
  /**
   * The app's origin as visitors reach it (e.g. `https://app.example`): the links handed to
   * `sendLink` are built on it, never on a request's `Host` header, which a client chooses.
   * Without it no self-service link is sent (the `selfServiceVisitorCreated` event still fires).
   * @default process.env.VISITOR_PASS_BASE_URL, else none
   * @example
   * ```ts
   * createVisitorPass({ baseUrl: "https://app.example", sendLink });
   * ```
   */
  baseUrl?: string;
  /**
   * The development outbox: every link handed to `sendLink` (or that would be, when there is
   * none) is kept in memory, newest first, and listed on the admin's "Outbox" page, so that
   * nobody digs through logs for a link. `{ limit }` keeps that many (default 100, at most
   * 1000). Never on in production unless set here: the links it holds admit whoever has them.
   * @default true when NODE_ENV is "development", else false
   * @example
   * ```ts
   * createVisitorPass({ outbox: process.env.NODE_ENV !== "production" });
   * createVisitorPass({ outbox: { limit: 20 } });
   * ```
   */
  outbox?: boolean | { limit?: number };
  /**
   * Fresh links: a link that expired or was used up lands on a page offering a new one, sent
   * (through `sendLink`, which it needs) only to the address the pass has on file, never shown on
   * the page. Off for every scope unless `scopes` names it (`true`: every scope); a pass created
   * with `freshLinks: true` is in whatever its scope. The new link carries a new token (the old
   * one stays dead), a new `tokenExpiry` and its uses back; a deactivated pass is never renewed.
   * The page and its answer are the same whether or not the token names a pass. Bounded by the
   * `freshLink` throttles.
   * @default undefined (off)
   * @example
   * ```ts
   * createVisitorPass({
   *   sendLink: async ({ visitor, url }) => mailer.send({ to: visitor.email, text: url }),
   *   freshLinks: { scopes: ["REFERENCE_REQUEST"], baseUrl: "https://app.example" },
   * });
   * ```
   */
  freshLinks?: FreshLinksOptions;
  /**
   * The clock; tests inject one. @default () => new Date()
   * @example
   * ```ts
   * createVisitorPass({ database: "sqlite::memory:", now: () => new Date("2026-01-01T12:00:00Z") });
   * ```
   */
  now?: () => Date;
  /**
   * Environment to read; tests inject one. @default process.env
   * @example
   * ```ts
   * createVisitorPass({ env: { VISITOR_TOKEN_EXPIRY: "600" } }); // instead of process.env
   * ```
   */
  env?: Record<string, string | undefined>;
}

/** Receives the package's reports; `console` fits, and so do most logging libraries. */
export interface VisitorPassLogger {
  warn(message: string): void;
  error(message: string): void;
  /** The request flow's decisions, one line each; left out, none is written (the default). */
  debug?(message: string): void;
}

/** The default logger: `console` for warnings and errors, and no debug lines. */
const CONSOLE_LOGGER: VisitorPassLogger = Object.freeze({
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
});

/**
 * The budgets of the `throttle` option; each is `{ points, duration }` or `false` (no limit).
 *
 * @example
 * ```ts
 * createVisitorPass({
 *   throttle: {
 *     selfService: { points: 5, duration: 60 }, // 5 new requests a minute per network
 *     selfServiceForm: { points: 10, duration: 60 },
 *   },
 * });
 * createVisitorPass({ throttle: false }); // no throttle at all
 * ```
 */
export interface ThrottleOptions {
  /**
   * Failed landings one client network may make: links whose token names no pass, or one that
   * is inactive, expired or used up. A landing that admits counts nothing. Once the budget is
   * used, every landing with a token from that network is answered 429 with `Retry-After` until
   * the window ends, a valid token's too, so that the answers cannot tell guesses apart.
   * `points` per `duration` seconds.
   * @default { points: 30, duration: 60 }
   * @example
   * ```ts
   * createVisitorPass({ throttle: { landing: { points: 100, duration: 60 } } }); // a busy office
   * ```
   */
  landing?: ThrottleLimit | false;
  /**
   * Pending self-service passes one client network may create (a guard with `selfService: true`
   * met without a pass): `points` per `duration` seconds. A session asking again for the same
   * page gets the pending pass it already has, which counts nothing.
   * @default { points: 10, duration: 60 }
   * @example
   * ```ts
   * createVisitorPass({ throttle: { selfService: { points: 5, duration: 60 } } });
   * ```
   */
  selfService?: ThrottleLimit | false;
  /**
   * Self-service form submissions (POST) one client network may make: `points` per `duration`
   * seconds.
   * @default { points: 20, duration: 60 }
   * @example
   * ```ts
   * createVisitorPass({ throttle: { selfServiceForm: false } }); // no limit on form posts
   * ```
   */
  selfServiceForm?: ThrottleLimit | false;
  /**
   * Requests for a fresh link (`freshLinks`) one client network may make, whatever their token:
   * over it, 429 with `Retry-After`.
   * @default { points: 10, duration: 3600 }
   * @example
   * ```ts
   * createVisitorPass({ throttle: { freshLink: { points: 20, duration: 3600 } } });
   * ```
   */
  freshLink?: ThrottleLimit | false;
  /**
   * Fresh links one pass may be sent. Over it the request is answered as any other (nothing
   * tells it apart) and nothing is sent.
   * @default { points: 3, duration: 3600 }
   * @example
   * ```ts
   * createVisitorPass({ throttle: { freshLinkPass: { points: 1, duration: 600 } } });
   * ```
   */
  freshLinkPass?: ThrottleLimit | false;
  /**
   * Fresh links one email address may be sent, over all its passes; answered as `freshLinkPass`.
   * @default { points: 5, duration: 3600 }
   * @example
   * ```ts
   * createVisitorPass({ throttle: { freshLinkAddress: { points: 10, duration: 3600 } } });
   * ```
   */
  freshLinkAddress?: ThrottleLimit | false;
  /**
   * Where the counts are kept. The default keeps them in this process's memory, so each process
   * counts on its own. `{ redis: client }` (a connected client of `redis` or `ioredis`, which
   * the app owns; `keyPrefix` optional) keeps them in Redis, shared by every process, as
   * `redisThrottleStore(...)` does. `"database"` keeps them in the pass database (a table of
   * their own, `<tablePrefix>throttle`, on a connection of their own), shared by every process
   * using it: PostgreSQL, MySQL/MariaDB or a SQLite file, through rate-limiter-flexible's SQL
   * limiters. `rateLimiterStore(...)` plugs in any other rate-limiter-flexible store.
   * @default memoryThrottleStore()
   * @example
   * ```ts
   * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
   * createVisitorPass({ throttle: { store: { redis } } });
   * ```
   */
  store?: ThrottleStore | RedisThrottleStoreOptions | "database";
}

/** The default budgets of the `throttle` option. */
export const DEFAULT_THROTTLE: Readonly<Record<ThrottleBudgetName, ThrottleLimit>> = Object.freeze({
  landing: Object.freeze({ points: 30, duration: 60 }),
  selfService: Object.freeze({ points: 10, duration: 60 }),
  selfServiceForm: Object.freeze({ points: 20, duration: 60 }),
  freshLink: Object.freeze({ points: 10, duration: 3600 }),
  freshLinkPass: Object.freeze({ points: 3, duration: 3600 }),
  freshLinkAddress: Object.freeze({ points: 5, duration: 3600 }),
});

/** The database the SQL store opens (or is handed); `store` when a store was handed in instead. */
export type DatabaseTarget =
  | { kind: "sqlite"; filename: string }
  | { kind: "postgres"; url: string }
  | { kind: "mysql"; url: string }
  | { kind: "kysely"; db: DatabaseInstance }
  | { kind: "store" };

export interface ResolvedConfig {
  /** The database to open, or `{ kind: "store" }` when a `store` was handed in. */
  database: DatabaseTarget;
  /** The store handed in with the `store` option, or `null`: the composition root opens one. */
  store: VisitorStore | null;
  sessionKey: string;
  sessionExpiry: number | null;
  querystringKey: string;
  tokenExpiry: number;
  selfServicePath: string;
  selfServiceRefusedDomains: readonly string[];
  tablePrefix: string;
  landingRedirect: boolean;
  onConflict: "keep" | "replace";
  anonymizeIp: false | "truncate" | "drop";
  tokenStorage: "plain" | "hash";
  sharingThresholds: ResolvedSharingThresholds;
  passCache: boolean | "listen";
  needsConfirmation: (visitor: Visitor) => boolean;
  /** The `confirmPage` option, else the built-in page the composition root provides. */
  confirmPage: ConfirmPageRenderer;
  /** The `throttledPage` option, or `null` for the built-in page. */
  throttledPage: ((context: { retryAfter: number }) => string) | null;
  storeTimeout: number;
  onLogFailure: "serve" | "refuse";
  logVisits: boolean;
  logger: VisitorPassLogger;
  guardCacheControl: string | false;
  throttle: ResolvedThrottle;
  sendLink: SendLink | null;
  /** The `baseUrl` option as an origin (`https://app.example`), or `null`. */
  baseUrl: string | null;
  /** How many links the development outbox keeps, or `null` when it is off. */
  outbox: { limit: number } | null;
  /** The `freshLinks` option, or `null` (off). */
  freshLinks: ResolvedFreshLinks | null;
  now: () => Date;
}

const DEFAULT_DATABASE_URL = "sqlite:visitor-pass.sqlite3";
export const DEFAULT_STORE_TIMEOUT = 2000;

/**
 * The options, checked and completed. `defaultConfirmPage` is the built-in confirmation page,
 * which the core does not render itself.
 */
export function resolveConfig(
  options: VisitorPassOptions,
  defaultConfirmPage: ConfirmPageRenderer,
  defaultFreshLinkPage?: FreshLinkPageRenderer,
): ResolvedConfig {
  const env = options.env ?? process.env;
  const store = resolveStore(options.store, options.database);
  const sendLink = optionalFunction("sendLink", options.sendLink) ?? null;
  const origin = baseUrl(options.baseUrl ?? env.VISITOR_PASS_BASE_URL);
  const database = store
    ? ({ kind: "store" } as const)
    : resolveDatabase(options.database ?? env.VISITOR_PASS_DATABASE_URL ?? DEFAULT_DATABASE_URL);
  return {
    database,
    store,
    sessionKey: nonEmpty(
      "sessionKey",
      options.sessionKey ?? env.VISITOR_SESSION_KEY ?? "visitor:session",
    ),
    sessionExpiry: resolveSessionExpiry(options.sessionExpiry, env.VISITOR_SESSION_EXPIRY),
    querystringKey: queryKey(options.querystringKey ?? env.VISITOR_QUERYSTRING_KEY ?? "vuid"),
    tokenExpiry: seconds("tokenExpiry", options.tokenExpiry ?? env.VISITOR_TOKEN_EXPIRY ?? 300),
    selfServicePath: mountPath(options.selfServicePath ?? "/visitors"),
    selfServiceRefusedDomains: refusedDomains(
      options.selfServiceRefusedDomains === undefined
        ? ["example.com"]
        : options.selfServiceRefusedDomains,
    ),
    tablePrefix: tablePrefix(options.tablePrefix ?? "visitor_pass_"),
    landingRedirect: oneOf("landingRedirect", options.landingRedirect ?? true, [true, false]),
    onConflict: oneOf("onConflict", options.onConflict ?? "keep", ["keep", "replace"]),
    anonymizeIp: oneOf("anonymizeIp", options.anonymizeIp ?? false, [false, "truncate", "drop"]),
    tokenStorage: oneOf("tokenStorage", options.tokenStorage ?? "plain", ["plain", "hash"]),
    sharingThresholds: resolveSharingThresholds(options.sharingThresholds),
    passCache: passCache(options.passCache, database),
    needsConfirmation: confirmation(options.confirm ?? false),
    confirmPage: optionalFunction("confirmPage", options.confirmPage) ?? defaultConfirmPage,
    throttledPage: optionalFunction("throttledPage", options.throttledPage) ?? null,
    storeTimeout: milliseconds(
      "storeTimeout",
      options.storeTimeout ?? env.VISITOR_PASS_STORE_TIMEOUT ?? DEFAULT_STORE_TIMEOUT,
    ),
    onLogFailure: oneOf("onLogFailure", options.onLogFailure ?? "serve", ["serve", "refuse"]),
    logVisits: logVisits(options.logVisits, env.VISITOR_PASS_LOG_VISITS),
    logger: logger(options.logger),
    guardCacheControl: cacheControl(
      "guardCacheControl",
      options.guardCacheControl === undefined ? DEFAULT_CACHE_CONTROL : options.guardCacheControl,
    ),
    throttle: resolveThrottle(options.throttle),
    sendLink,
    baseUrl: origin,
    outbox: outbox(options.outbox, env.NODE_ENV),
    freshLinks: resolveFreshLinks(
      options.freshLinks,
      sendLink,
      store,
      defaultFreshLinkPage,
      origin,
    ),
    now: optionalFunction("now", options.now) ?? (() => new Date()),
  };
}

function baseUrl(value: unknown): string | null {
  if (value === undefined || value === null || value === "") return null;
  let url: URL | null = null;
  try {
    url = typeof value === "string" ? new URL(value) : null;
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new VisitorPassConfigError(
      "baseUrl",
      value,
      "expected an http(s) URL, e.g. https://app.example",
    );
  }
  if (
    url.pathname !== "/" ||
    url.search !== "" ||
    url.hash !== "" ||
    url.username ||
    url.password
  ) {
    throw new VisitorPassConfigError(
      "baseUrl",
      value,
      "expected an origin only (scheme, host and port): links keep the path of the page they open",
    );
  }
  return url.origin;
}

/** The most links the development outbox may keep. */
const MAX_OUTBOX = 1000;
const DEFAULT_OUTBOX = 100;

function outbox(value: unknown, nodeEnv: string | undefined): { limit: number } | null {
  if (value === undefined || value === null) {
    return nodeEnv === "development" ? { limit: DEFAULT_OUTBOX } : null;
  }
  if (value === false) return null;
  if (value === true) return { limit: DEFAULT_OUTBOX };
  if (typeof value === "object" && !Array.isArray(value)) {
    const limit = (value as { limit?: unknown }).limit ?? DEFAULT_OUTBOX;
    if (typeof limit === "number" && Number.isInteger(limit) && limit >= 1 && limit <= MAX_OUTBOX) {
      return { limit };
    }
    throw new VisitorPassConfigError(
      "outbox",
      value,
      `limit must be a whole number from 1 to ${MAX_OUTBOX}`,
    );
  }
  throw new VisitorPassConfigError("outbox", value, "expected true, false or { limit }");
}

function resolveStore(value: unknown, database: unknown): VisitorStore | null {
  if (value === undefined || value === null) return null;
  const missing = VISITOR_STORE_METHODS.filter(
    (method) => typeof (value as Record<string, unknown>)?.[method] !== "function",
  );
  if (typeof value !== "object" || missing.length > 0) {
    throw new VisitorPassConfigError(
      "store",
      value,
      `expected a store implementing the storage ports${missing.length > 0 && typeof value === "object" ? ` (missing ${missing.join(", ")})` : ""}`,
    );
  }
  if (database !== undefined) {
    throw new VisitorPassConfigError("store", value, "give either a store or a database, not both");
  }
  return value as VisitorStore;
}

function passCache(value: unknown, database: DatabaseTarget): boolean | "listen" {
  const mode = oneOf("passCache", value ?? true, [true, false, "listen"] as const);
  if (mode === "listen" && database.kind !== "postgres") {
    throw new VisitorPassConfigError(
      "passCache",
      value,
      database.kind === "sqlite"
        ? '"listen" is for PostgreSQL; on SQLite the default (true) already caches exactly'
        : '"listen" needs a postgres:// database URL (the store opens its own listening connection)',
    );
  }
  return mode;
}

/** What guarded pages are by default: for one visitor, and not to be stored anywhere. */
const DEFAULT_CACHE_CONTROL = "private, no-store";

/** A `Cache-Control` value to set, or `false`; a header value must not carry control characters. */
export function cacheControl(option: string, value: unknown): string | false {
  if (value === false) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (typeof value === "string" && value.trim() !== "" && !/[\u0000-\u001f\u007f]/.test(value)) {
    return value;
  }
  throw new VisitorPassConfigError(option, value, "expected a Cache-Control value or false");
}

function resolveThrottle(value: unknown): ResolvedThrottle {
  if (value === false) return false;
  if (value === undefined || value === null)
    return { budgets: DEFAULT_THROTTLE, store: memoryThrottleStore() };
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new VisitorPassConfigError("throttle", value, "expected false or an object of budgets");
  }
  const options = value as Record<string, unknown>;
  const budgetNames = Object.keys(DEFAULT_THROTTLE) as ThrottleBudgetName[];
  for (const key of Object.keys(options)) {
    if (key !== "store" && !budgetNames.includes(key as ThrottleBudgetName)) {
      throw new VisitorPassConfigError(
        `throttle.${key}`,
        options[key],
        `unknown budget; use ${[...budgetNames, "store"].join(", ")}`,
      );
    }
  }
  const budgets = {} as Record<ThrottleBudgetName, ThrottleLimit | false>;
  for (const name of budgetNames) {
    budgets[name] = throttleLimit(`throttle.${name}`, options[name], DEFAULT_THROTTLE[name]);
  }
  let store = options.store ?? memoryThrottleStore();
  // The store's own database: the pass service asks its store for it (`throttleStore()`).
  if (store === "database") return { budgets: Object.freeze(budgets), store };
  if (isRedisThrottleStoreOptions(store)) {
    const { keyPrefix } = store;
    if (keyPrefix !== undefined && (typeof keyPrefix !== "string" || keyPrefix.length > 100)) {
      throw new VisitorPassConfigError(
        "throttle.store.keyPrefix",
        keyPrefix,
        "expected a string of at most 100 characters",
      );
    }
    store = redisThrottleStore(store);
  }
  if (typeof (store as Partial<ThrottleStore>)?.limiter !== "function") {
    throw new VisitorPassConfigError(
      "throttle.store",
      store,
      'expected a throttle store (an object with a limiter(budget) method, e.g. rateLimiterStore(...)), { redis: client } or "database"',
    );
  }
  return { budgets: Object.freeze(budgets), store: store as ThrottleStore };
}

/** A day: longer windows are mistakes (and kept counts that long). */
const MAX_THROTTLE_WINDOW = 24 * 3600;

function throttleLimit(
  option: string,
  value: unknown,
  fallback: ThrottleLimit,
): ThrottleLimit | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  const limit = value as Partial<ThrottleLimit> | null;
  const whole = (n: unknown, max: number) =>
    typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= max;
  if (
    typeof limit !== "object" ||
    limit === null ||
    !whole(limit.points, 1_000_000) ||
    !whole(limit.duration, MAX_THROTTLE_WINDOW)
  ) {
    throw new VisitorPassConfigError(
      option,
      value,
      `expected false or { points, duration }: whole numbers, points from 1 to 1000000, duration from 1 to ${MAX_THROTTLE_WINDOW} seconds`,
    );
  }
  return Object.freeze({ points: limit.points!, duration: limit.duration! });
}

/** The `confirm` setting of passes that never need confirming: lets the flow skip the lookup. */
export const NEVER_CONFIRM = (): boolean => false;

function confirmation(value: unknown): (visitor: Visitor) => boolean {
  if (value === false) return NEVER_CONFIRM;
  if (value === true) return () => true;
  if (typeof value === "function") return (visitor) => Boolean(value(visitor));
  if (Array.isArray(value) && value.every((scope) => typeof scope === "string")) {
    const scopes = new Set<string>(value);
    return (visitor) => scopes.has(visitor.scope);
  }
  throw new VisitorPassConfigError(
    "confirm",
    value,
    "expected true/false, a list of scopes or a function",
  );
}

function logVisits(option: unknown, env: string | undefined): boolean {
  if (option !== undefined) return oneOf("logVisits", option, [true, false]);
  if (env === undefined || env.trim() === "") return true;
  const value = env.trim().toLowerCase();
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new VisitorPassConfigError("logVisits", env, "expected true, false, 1 or 0");
}

function logger(value: unknown): VisitorPassLogger {
  if (value === undefined || value === null) return CONSOLE_LOGGER;
  const candidate = value as Partial<VisitorPassLogger>;
  if (typeof candidate.warn !== "function" || typeof candidate.error !== "function") {
    throw new VisitorPassConfigError("logger", value, "needs warn() and error() methods");
  }
  if (candidate.debug !== undefined && typeof candidate.debug !== "function") {
    throw new VisitorPassConfigError("logger", value, "its debug, when given, must be a method");
  }
  return candidate as VisitorPassLogger;
}

/** Ten minutes: a request waiting longer for the store has long been given up. */
const MAX_STORE_TIMEOUT = 600_000;

function milliseconds(option: string, value: unknown): number {
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (
    typeof number !== "number" ||
    !Number.isInteger(number) ||
    number < 1 ||
    number > MAX_STORE_TIMEOUT
  ) {
    throw new VisitorPassConfigError(
      option,
      value,
      `must be a whole number of milliseconds from 1 to ${MAX_STORE_TIMEOUT}`,
    );
  }
  return number;
}

function optionalFunction<F>(option: string, value: F | undefined): F | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "function")
    throw new VisitorPassConfigError(option, value, "must be a function");
  return value;
}

function oneOf<T>(option: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new VisitorPassConfigError(
      option,
      value,
      `expected one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`,
    );
  }
  return value as T;
}

function resolveDatabase(value: unknown): DatabaseTarget {
  if (isKysely(value)) return { kind: "kysely", db: value };
  if (typeof value !== "string" || value.trim() === "") {
    throw new VisitorPassConfigError(
      "database",
      value,
      "expected a database URL or a Kysely instance",
    );
  }
  const url = value.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case "sqlite": {
      let filename = url.slice("sqlite:".length);
      if (filename.startsWith("//")) filename = filename.slice(2);
      if (filename === "") {
        throw new VisitorPassConfigError(
          "database",
          url,
          'expected "sqlite:<file>" or "sqlite::memory:"',
        );
      }
      return { kind: "sqlite", filename };
    }
    case "postgres":
    case "postgresql":
      return { kind: "postgres", url: parseableUrl(url) };
    case "mysql":
    case "mariadb":
      return { kind: "mysql", url: parseableUrl(url).replace(/^mariadb:/i, "mysql:") };
    default:
      throw new VisitorPassConfigError(
        "database",
        redact(url),
        "unknown scheme; use sqlite:, postgres://, postgresql:// or mysql://",
      );
  }
}

function parseableUrl(url: string): string {
  try {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new Error("no authority");
    new URL(url);
  } catch {
    throw new VisitorPassConfigError(
      "database",
      redact(url),
      "not a valid URL (scheme://host/database)",
    );
  }
  return url;
}

/** Hides a password in a database URL so it never reaches an error message or a log. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^/]*@/i, "$1:***@");
}

function isKysely(value: unknown): value is DatabaseInstance {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as DatabaseInstance).selectFrom === "function" &&
    typeof (value as DatabaseInstance).getExecutor === "function"
  );
}

/** A domain name as an address's part after "@" can be: labels of letters, digits and hyphens. */
const DOMAIN =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function refusedDomains(value: unknown): readonly string[] {
  const option = "selfServiceRefusedDomains";
  if (!Array.isArray(value) || value.length > 1000) {
    throw new VisitorPassConfigError(
      option,
      value,
      "must be an array of at most 1000 domain names",
    );
  }
  for (const domain of value) {
    if (typeof domain !== "string" || !DOMAIN.test(domain)) {
      throw new VisitorPassConfigError(
        option,
        domain,
        'each must be a lower-case domain name without "@", like "example.com"',
      );
    }
  }
  return Object.freeze([...new Set(value as string[])]);
}

function nonEmpty(option: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new VisitorPassConfigError(option, value, "must be a non-empty string");
  }
  return value;
}

function queryKey(value: unknown): string {
  const key = nonEmpty("querystringKey", value);
  if (!/^[A-Za-z0-9_.~-]+$/.test(key)) {
    throw new VisitorPassConfigError(
      "querystringKey",
      value,
      "use letters, digits, '_', '-', '.' or '~'",
    );
  }
  return key;
}

/** A hundred years: longer lifetimes are mistakes, and overflow dates. */
const MAX_SECONDS = 100 * 365 * 24 * 3600;

function seconds(option: string, value: unknown): number {
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (
    typeof number !== "number" ||
    !Number.isInteger(number) ||
    number < 0 ||
    number > MAX_SECONDS
  ) {
    throw new VisitorPassConfigError(
      option,
      value,
      `must be a whole number of seconds from 0 to ${MAX_SECONDS}`,
    );
  }
  return number;
}

function resolveSessionExpiry(
  option: number | null | undefined,
  env: string | undefined,
): number | null {
  if (option === null) return null;
  if (option !== undefined) return seconds("sessionExpiry", option);
  if (env === undefined) return 0;
  if (env.trim().toLowerCase() === "null") return null;
  return seconds("sessionExpiry", env);
}

function mountPath(value: unknown): string {
  const path = nonEmpty("selfServicePath", value);
  if (!path.startsWith("/")) {
    throw new VisitorPassConfigError("selfServicePath", value, 'must start with "/"');
  }
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

function tablePrefix(value: unknown): string {
  if (typeof value !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$|^$/.test(value)) {
    throw new VisitorPassConfigError("tablePrefix", value, "use letters, digits and '_'");
  }
  return value;
}
