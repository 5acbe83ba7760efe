import type { Kysely } from "kysely";
import { VisitorPassConfigError } from "./errors.js";
import {
  type ResolvedSharingThresholds,
  resolveSharingThresholds,
  type SharingThresholds,
} from "./sharing.js";
import type { Visitor } from "./visitor.js";

/** Options of `createVisitorPass()`. Each falls back to its environment variable, then its default. */
export interface VisitorPassOptions {
  /**
   * Where passes are stored: `sqlite:<file>`, `sqlite::memory:`, `postgres://…`, `postgresql://…`,
   * `mysql://…`, or a `Kysely` instance the app already has (the app then owns and closes it).
   * @default process.env.VISITOR_PASS_DATABASE_URL ?? "sqlite:visitor-pass.sqlite3"
   */
  database?: string | Kysely<any>;
  /**
   * Session key that holds the stashed visitor uuid.
   * @default process.env.VISITOR_SESSION_KEY ?? "visitor:session"
   */
  sessionKey?: string;
  /**
   * Seconds a visitor's session cookie lives, the default for new passes. `0` makes it a browser
   * session cookie; `null` leaves the app's session policy alone.
   * @default process.env.VISITOR_SESSION_EXPIRY ?? 0
   */
  sessionExpiry?: number | null;
  /**
   * Query-string parameter that carries the token.
   * @default process.env.VISITOR_QUERYSTRING_KEY ?? "vuid"
   */
  querystringKey?: string;
  /**
   * Seconds from creation (or reactivation) after which a link can no longer be used.
   * @default process.env.VISITOR_TOKEN_EXPIRY ?? 300
   */
  tokenExpiry?: number;
  /**
   * Where the self-service pages are mounted.
   * @default "/visitors"
   */
  selfServicePath?: string;
  /**
   * Prefix of the table names, so the tables can live in the app's own database.
   * @default "visitor_pass_"
   */
  tablePrefix?: string;
  /**
   * Answer a GET that admits a visitor with a redirect to the same URL without the token, so the
   * token leaves the address bar, history and Referer headers. Turn off only for apps that need
   * the landing page itself to render (see SECURITY.md for the trade-off).
   * @default true
   */
  landingRedirect?: boolean;
  /**
   * What a token does in a session that already holds a different active visitor, or a signed-in
   * user: `"keep"` ignores the token (safe against planted links), `"replace"` admits the new pass.
   * @default "keep"
   */
  onConflict?: "keep" | "replace";
  /**
   * Client addresses in visit logs: `false` keeps them, `"truncate"` keeps the network only (/24 for
   * IPv4, /48 for IPv6), `"drop"` stores none.
   * @default false
   */
  anonymizeIp?: false | "truncate" | "drop";
  /**
   * Passes whose link shows a "Continue as …" page (GET) and admits only when it is submitted
   * (POST): for links that must survive mail scanners that fetch them. `true` for every pass, a
   * list of scopes, or a function deciding per pass (e.g. from its context).
   * @default false
   */
  confirm?: boolean | readonly string[] | ((visitor: Visitor) => boolean);
  /** Renders the confirmation page (a whole HTML document) in place of the built-in one. */
  confirmPage?: (context: ConfirmPageContext) => string;
  /**
   * `"hash"` stores only a SHA-256 digest of each token, so a copy of the database lets nobody
   * in. The cost: a link can only be shown when its pass is created, and passes read back without
   * their token (`list()`) carry the digest as `uuid`.
   * @default "plain"
   */
  tokenStorage?: "plain" | "hash";
  /**
   * When the sharing analytics flag a pass as shared: when its visits show MORE distinct
   * sessions, client networks or browser families than these (positive whole numbers).
   * @default { sessions: 2, networks: 2, browsers: 2 }
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
   * - `"listen"`: on PostgreSQL too (a `postgres://` URL), kept in step by `LISTEN`/`NOTIFY`: a
   *   trigger announces every change to a pass, by any process or tool, and each process drops
   *   its cache when the notice arrives (usually within a millisecond or two of the commit);
   *   entries also expire after 5 seconds, and nothing is cached while the listening connection
   *   is down. Costs one more connection per process.
   * - `false`: read every pass from the database.
   * @default true
   */
  passCache?: boolean | "listen";
  /**
   * Milliseconds a request waits for the database, at most, on PostgreSQL and MySQL: looking up a
   * pass, spending one of its uses, creating a pass (a pending self-service one included) or
   * completing a self-service form, and writing each batch of visit logs. Past it the request is
   * refused with `VisitorPassUnavailable` (503), as when the database is down; a batch of logs is
   * kept and tried again. On a database URL, it also bounds opening a connection, and a connection
   * whose query went unanswered is closed rather than used again; the connections of a Kysely
   * instance of the app's are the app's to bound. Migrations, purges, listings and reports have
   * no deadline. A whole number from 1 to 600000.
   * @default process.env.VISITOR_PASS_STORE_TIMEOUT ?? 2000
   */
  storeTimeout?: number;
  /** The clock; tests inject one. @default () => new Date() */
  now?: () => Date;
  /** Environment to read; tests inject one. @default process.env */
  env?: Record<string, string | undefined>;
}

export interface ConfirmPageContext {
  visitor: Visitor;
  /** Where the page's form must POST (the same URL, marked as confirmed). */
  action: string;
}

export type DatabaseTarget =
  | { kind: "sqlite"; filename: string }
  | { kind: "postgres"; url: string }
  | { kind: "mysql"; url: string }
  | { kind: "kysely"; db: Kysely<any> };

export interface ResolvedConfig {
  database: DatabaseTarget;
  sessionKey: string;
  sessionExpiry: number | null;
  querystringKey: string;
  tokenExpiry: number;
  selfServicePath: string;
  tablePrefix: string;
  landingRedirect: boolean;
  onConflict: "keep" | "replace";
  anonymizeIp: false | "truncate" | "drop";
  tokenStorage: "plain" | "hash";
  sharingThresholds: ResolvedSharingThresholds;
  passCache: boolean | "listen";
  storeTimeout: number;
  needsConfirmation: (visitor: Visitor) => boolean;
  confirmPage: ((context: ConfirmPageContext) => string) | null;
  now: () => Date;
}

export const DEFAULT_DATABASE_URL = "sqlite:visitor-pass.sqlite3";

export function resolveConfig(options: VisitorPassOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const database = resolveDatabase(
    options.database ?? env.VISITOR_PASS_DATABASE_URL ?? DEFAULT_DATABASE_URL,
  );
  return {
    database,
    sessionKey: nonEmpty(
      "sessionKey",
      options.sessionKey ?? env.VISITOR_SESSION_KEY ?? "visitor:session",
    ),
    sessionExpiry: resolveSessionExpiry(options.sessionExpiry, env.VISITOR_SESSION_EXPIRY),
    querystringKey: queryKey(options.querystringKey ?? env.VISITOR_QUERYSTRING_KEY ?? "vuid"),
    tokenExpiry: seconds("tokenExpiry", options.tokenExpiry ?? env.VISITOR_TOKEN_EXPIRY ?? 300),
    selfServicePath: mountPath(options.selfServicePath ?? "/visitors"),
    tablePrefix: tablePrefix(options.tablePrefix ?? "visitor_pass_"),
    landingRedirect: oneOf("landingRedirect", options.landingRedirect ?? true, [true, false]),
    onConflict: oneOf("onConflict", options.onConflict ?? "keep", ["keep", "replace"]),
    anonymizeIp: oneOf("anonymizeIp", options.anonymizeIp ?? false, [false, "truncate", "drop"]),
    tokenStorage: oneOf("tokenStorage", options.tokenStorage ?? "plain", ["plain", "hash"]),
    sharingThresholds: resolveSharingThresholds(options.sharingThresholds),
    passCache: passCache(options.passCache, database),
    storeTimeout: milliseconds(
      "storeTimeout",
      options.storeTimeout ?? env.VISITOR_PASS_STORE_TIMEOUT ?? 2000,
      MAX_STORE_TIMEOUT,
    ),
    needsConfirmation: confirmation(options.confirm ?? false),
    confirmPage: optionalFunction("confirmPage", options.confirmPage),
    now: optionalFunction("now", options.now) ?? (() => new Date()),
  };
}

function passCache(value: unknown, database: DatabaseTarget): boolean | "listen" {
  const mode = oneOf("passCache", value ?? true, [true, false, "listen"] as const);
  if (mode === "listen" && database.kind !== "postgres" && database.kind !== "sqlite") {
    throw new VisitorPassConfigError(
      "passCache",
      value,
      '"listen" needs a postgres:// database URL (the store opens its own listening connection)',
    );
  }
  return mode;
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

function isKysely(value: unknown): value is Kysely<any> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Kysely<any>).selectFrom === "function" &&
    typeof (value as Kysely<any>).getExecutor === "function"
  );
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

/** Ten minutes: a request should not wait longer for anything. */
const MAX_STORE_TIMEOUT = 600_000;

function milliseconds(option: string, value: unknown, max: number): number {
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < 1 || number > max) {
    throw new VisitorPassConfigError(
      option,
      value,
      `must be a whole number of milliseconds from 1 to ${max}`,
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
