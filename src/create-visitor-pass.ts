import type { Kysely } from "kysely";
import type { VisitorPassOptions as CoreOptions } from "./core/config.js";
import type { VisitorPassParts } from "./core/ports.js";
import { VisitorPass as PassService } from "./core/visitor-pass.js";
import { KyselyStore } from "./store/kysely/kysely-store.js";
import { defaultConfirmPage } from "./ui/confirm-page.js";
import { defaultFreshLinkPage } from "./ui/fresh-link-page.js";
import { throttledPage } from "./ui/refusal-pages.js";

/**
 * Options of `createVisitorPass()`. Each falls back to its environment variable, then its default.
 *
 * @example
 * ```ts
 * const passes = createVisitorPass({
 *   database: "postgres://app@db.internal/app", // or VISITOR_PASS_DATABASE_URL
 *   tokenExpiry: 3 * 24 * 3600, // seconds a link works
 *   sessionExpiry: 3600, // seconds a visitor's session lasts
 *   tokenStorage: "hash", // a copy of the database lets nobody in
 *   anonymizeIp: "truncate",
 *   onLogFailure: "refuse",
 * });
 * ```
 */
export interface VisitorPassOptions extends Omit<CoreOptions, "database"> {
  /**
   * Where passes are stored: `sqlite:<file>`, `sqlite::memory:`, `postgres://…`, `postgresql://…`,
   * `mysql://…`, or a `Kysely` instance the app already has (the app then owns and closes it).
   * @default process.env.VISITOR_PASS_DATABASE_URL ?? "sqlite:visitor-pass.sqlite3"
   * @example
   * ```ts
   * createVisitorPass({ database: process.env.DATABASE_URL ?? "sqlite:app.sqlite3" });
   * // Or the Kysely instance the app already has (its tables then sit beside the app's):
   * createVisitorPass({ database: db });
   * ```
   */
  database?: string | Kysely<any>;
}

/** The package's own parts: the SQL store and the built-in pages. */
const PARTS: VisitorPassParts = {
  openStore: (database, config) =>
    new KyselyStore(database, config.tablePrefix, {
      listen: config.passCache === "listen",
      storeTimeout: config.storeTimeout,
    }),
  confirmPage: defaultConfirmPage,
  throttledPage,
  freshLinkPage: defaultFreshLinkPage,
};

/** The pass service: create, look up and manage passes; the flow adapters run requests through. */
export class VisitorPass extends PassService {
  constructor(options: VisitorPassOptions = {}) {
    super(options, PARTS);
  }
}

/**
 * Creates the pass service. Does no I/O: the database is opened on first use.
 *
 * @example
 * ```ts
 * import { createVisitorPass } from "visitor-pass";
 *
 * const passes = createVisitorPass({
 *   database: process.env.DATABASE_URL ?? "sqlite:visitor-pass.sqlite3",
 *   tokenExpiry: 7 * 24 * 3600, // links work for a week
 *   confirm: ["REFERENCE_REQUEST"], // a "Continue as …" page, for mail scanners
 * });
 * await passes.migrate(); // creates or updates the tables; safe at every start
 *
 * const ginger = await passes.create({
 *   email: "ginger@example.org",
 *   firstName: "Ginger",
 *   scope: "REFERENCE_REQUEST",
 *   context: { requestedBy: "fred" },
 *   maxUses: 1,
 * });
 * const link = passes.tokenise("https://app.example/reference", ginger); // …?vuid=<uuid>
 * ```
 */
export function createVisitorPass(options?: VisitorPassOptions): VisitorPass {
  return new VisitorPass(options);
}
