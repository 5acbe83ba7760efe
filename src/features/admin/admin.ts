import { isCrossSite } from "../../core/cross-site.js";
import {
  MalformedVisitorToken,
  PromotedPassError,
  UnclaimedRequestError,
  VisitorPassConfigError,
  VisitorPassError,
  VisitorPassUnavailable,
  VisitorPassValidationError,
} from "../../core/errors.js";
import { htmlPage, type PageResponse } from "../../core/page.js";
import { reactivationShortens } from "../../core/reactivation.js";
import { isUuid } from "../../core/tokens.js";
import type { Visitor } from "../../core/visitor.js";
import { flowOf, type VisitorPass } from "../../core/visitor-pass.js";
import {
  type Frame,
  listPage,
  messagePage,
  outboxPage,
  passPage,
  passPath,
  sharingPage,
} from "../../ui/admin/admin-pages.js";
import { logsPage } from "../../ui/admin/logs-page.js";
import {
  DEFAULT_LIST,
  type ListParams,
  listQuery,
  parseListParams,
  parseSharingParams,
} from "./admin-query.js";
import { parseLogParams } from "./log-query.js";

/**
 * Options of the admin pages (`visitorAdmin` in each adapter).
 *
 * @example
 * ```ts
 * app.use(
 *   "/admin/visitors",
 *   visitorAdmin(passes, {
 *     authorize: (req) => req.session.user?.isStaff === true,
 *     pageSize: 50,
 *     baseUrl: "https://app.example/", // where the links shown point
 *     title: "Reference requests",
 *   }),
 * );
 * ```
 */
export interface VisitorAdminOptions<R> {
  /**
   * Decides whether this request may see and change passes; required. Receives the framework's
   * own request (Express `req`, Fastify `request`, Hono `c`); may be async. A refused request gets
   * a 403 page before anything is read from the database.
   */
  authorize: (request: R) => boolean | Promise<boolean>;
  /** Passes (and report rows) per page. @default 25 */
  pageSize?: number;
  /**
   * The URL a pass's link is built on (the app's base URL, e.g. `https://example.com/`).
   * @default the origin the admin pages are requested at, with path "/"
   */
  baseUrl?: string;
  /** The name in the pages' header. @default "Visitor passes" */
  title?: string;
}

/** A request to the admin pages, as an adapter describes it. */
export interface AdminRequest {
  method: string;
  /** The path below the mount point, starting with "/" (percent-encoded as it arrived). */
  path: string;
  query: URLSearchParams;
  /** The parsed form of a POST (`application/x-www-form-urlencoded`), `null` for other requests. */
  form: Record<string, unknown> | null;
  origin: string | null;
  secFetchSite: string | null;
  host: string | null;
  /** The app's origin as the browser reached it, e.g. `https://example.com`. */
  baseUrl: string;
  /** Where the admin is mounted, e.g. `/admin/visitors` (`""` at the root). */
  mount: string;
}

/**
 * The largest admin form post read, in bytes (a bulk action's ids included); every adapter
 * refuses a larger one with 413.
 */
export const ADMIN_BODY_LIMIT = 64 * 1024;
/** The most form fields an admin post may have. */
export const ADMIN_FIELD_LIMIT = 1000;

const ACTIONS = new Set(["deactivate", "reactivate"]);
/** The most passes one bulk form may change. */
const MAX_BULK = 500;
/** The most visits a pass page lists. */
const MAX_VISITS_SHOWN = 200;
/** A pass id as the admin's URLs and forms carry it: what `getById` takes, never a token. */
const PASS_ID = /^[1-9][0-9]{0,9}$/;

type Route =
  | { page: "list" }
  | { page: "sharing" }
  | { page: "logs" }
  | { page: "outbox" }
  | { page: "bulk" }
  | { page: "pass"; id: number }
  | { page: "action"; id: number; action: "deactivate" | "reactivate" }
  | { page: "notFound" };

/**
 * The admin pages, decided once for every framework: a request description in, a `PageResponse`
 * out. Each adapter parses the body, hands over its native request for `authorize`, and writes
 * the answer.
 */
export class VisitorAdmin<R = unknown> {
  readonly #passes: VisitorPass;
  readonly #authorize: (request: R) => boolean | Promise<boolean>;
  readonly #pageSize: number;
  readonly #baseUrl: string | null;
  readonly #title: string;

  constructor(passes: VisitorPass, options: VisitorAdminOptions<R>, caller = "visitorAdmin()") {
    flowOf(passes, caller);
    const authorize = (options as Partial<VisitorAdminOptions<R>> | undefined)?.authorize;
    if (typeof authorize !== "function") {
      throw new VisitorPassConfigError(
        "authorize",
        authorize,
        `${caller} needs an authorize(request) function that says who may manage passes`,
      );
    }
    const pageSize = options.pageSize ?? 25;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 500) {
      throw new VisitorPassConfigError(
        "pageSize",
        pageSize,
        "must be a whole number from 1 to 500",
      );
    }
    if (options.baseUrl !== undefined && !isHttpUrl(options.baseUrl)) {
      throw new VisitorPassConfigError("baseUrl", options.baseUrl, "must be an http(s) URL");
    }
    this.#passes = passes;
    this.#authorize = authorize;
    this.#pageSize = pageSize;
    this.#baseUrl = options.baseUrl ?? null;
    this.#title = options.title ?? "Visitor passes";
  }

  /** Answers one request: authorization first, then the page or the change it asks for. */
  async handle(request: AdminRequest, native: R): Promise<PageResponse> {
    if (!(await this.#authorize(native))) {
      return htmlPage(
        403,
        messagePage(null, "Not allowed", ["You are not allowed to manage visitor passes."]),
      );
    }
    const frame: Frame = {
      mount: request.mount,
      title: this.#title,
      current: null,
      outbox: this.#passes.config.outbox !== null,
    };
    const route = parseRoute(request.path);
    const method = request.method.toUpperCase() === "HEAD" ? "GET" : request.method.toUpperCase();
    const wanted = route.page === "bulk" || route.page === "action" ? "POST" : "GET";
    // Without the outbox (production, unless turned on) its page does not exist.
    if (route.page === "notFound" || (route.page === "outbox" && !frame.outbox)) {
      return this.#notFound(frame, "There is no such page.");
    }
    if (method !== wanted) {
      const response = htmlPage(
        405,
        messagePage(frame, "Method not allowed", [`This page only answers ${wanted}.`]),
      );
      response.headers.Allow = wanted === "GET" ? "GET, HEAD" : "POST";
      return response;
    }
    if (method === "POST" && isCrossSite(request)) {
      return htmlPage(
        403,
        messagePage(frame, "Refused", [
          "This form was sent from another site, so nothing was changed.",
        ]),
      );
    }
    try {
      switch (route.page) {
        case "list":
          return await this.#list({ ...frame, current: "passes" }, request.query);
        case "sharing":
          return await this.#sharing({ ...frame, current: "sharing" }, request.query);
        case "logs":
          return await this.#logs({ ...frame, current: "logs" }, request.query);
        case "outbox":
          return htmlPage(
            200,
            outboxPage({ ...frame, current: "outbox" }, this.#passes.sentLinks()),
          );
        case "pass":
          return await this.#pass({ ...frame, current: "passes" }, request, route.id);
        case "action":
          return await this.#act(frame, route.id, route.action);
        case "bulk":
          return await this.#bulk(frame, request.form ?? {});
      }
    } catch (error) {
      if (error instanceof MalformedVisitorToken) return this.#notFound(frame, "No such pass.");
      if (error instanceof VisitorPassValidationError) {
        return this.#badRequest(frame, Object.values(error.fieldErrors).flat());
      }
      if (error instanceof VisitorPassError) throw error;
      // A store failure: the app's error handler gets a 503 whose message is safe to show, the
      // driver's own (which may quote the query) only as its `cause`.
      throw new VisitorPassUnavailable({ cause: error });
    }
  }

  async #list(frame: Frame, query: URLSearchParams): Promise<PageResponse> {
    const parsed = parseListParams(query);
    if (!parsed.ok) return this.#badRequest(frame, parsed.errors);
    const params = parsed.params;
    const filter = {
      scope: params.scope || undefined,
      search: params.q || undefined,
      active: params.active,
      valid: params.valid,
      promoted: params.promoted,
    };
    const passes = this.#passes;
    const [rows, total, chart] = await Promise.all([
      passes.list({
        ...filter,
        limit: this.#pageSize + 1,
        offset: (params.page - 1) * this.#pageSize,
      }),
      passes.count(filter),
      passes.visitsOverTime({ days: 30 }),
    ]);
    const visitors = rows.slice(0, this.#pageSize);
    const visits = await passes.visitCounts(visitors.map((v) => v.id));
    return htmlPage(
      200,
      listPage({
        frame,
        params,
        pageSize: this.#pageSize,
        visitors,
        visits,
        total,
        hasOlder: rows.length > this.#pageSize,
        chart,
        notice: listNotice(query),
      }),
    );
  }

  async #sharing(frame: Frame, query: URLSearchParams): Promise<PageResponse> {
    const parsed = parseSharingParams(query);
    if (!parsed.ok) return this.#badRequest(frame, parsed.errors);
    const params = parsed.params;
    const rows = await this.#passes.sharingReport({
      scope: params.scope || undefined,
      flaggedOnly: params.flagged || undefined,
      limit: this.#pageSize + 1,
      offset: (params.page - 1) * this.#pageSize,
    });
    return htmlPage(
      200,
      sharingPage({
        frame,
        params,
        rows: rows.slice(0, this.#pageSize),
        hasMore: rows.length > this.#pageSize,
        pageSize: this.#pageSize,
      }),
    );
  }

  async #logs(frame: Frame, query: URLSearchParams): Promise<PageResponse> {
    const parsed = parseLogParams(query);
    if (!parsed.ok) return this.#badRequest(frame, parsed.errors);
    const page = await this.#passes.searchLogs({ ...parsed.search, limit: this.#pageSize });
    return htmlPage(
      200,
      logsPage({ frame, params: parsed.params, logs: page.logs, next: page.next }),
    );
  }

  async #pass(frame: Frame, request: AdminRequest, id: number): Promise<PageResponse> {
    const passes = this.#passes;
    const visitor = await passes.getById(id);
    if (!visitor) return this.#notFound(frame, "No such pass.");
    // `uuid` is the pass's token, or its stored digest: either names it (never in a URL).
    const [logs, signals, chart] = await Promise.all([
      passes.logs(visitor.uuid),
      passes.sharing(visitor.uuid),
      passes.visitsOverTime({ uuid: visitor.uuid, days: 30 }),
    ]);
    return htmlPage(
      200,
      passPage({
        frame,
        visitor,
        link: this.#link(request, visitor),
        logs: logs.slice(0, MAX_VISITS_SHOWN),
        totalLogs: logs.length,
        sharing: signals,
        chart,
        notice: passNotice(request.query),
        reactivatable:
          !visitor.isUnclaimedRequest && !visitor.isPromoted && this.#shortening(visitor) === null,
      }),
    );
  }

  async #act(frame: Frame, id: number, action: "deactivate" | "reactivate") {
    const outcome = await this.#change(id, action);
    if (outcome === "gone") return this.#notFound(frame, "No such pass.");
    if (outcome === "unclaimed") {
      return htmlPage(
        409,
        messagePage(frame, "Not reactivated", [UNCLAIMED_MESSAGE, "Nothing was changed."]),
      );
    }
    if (outcome === "promoted") {
      return htmlPage(
        409,
        messagePage(frame, "Not reactivated", [PROMOTED_MESSAGE, "Nothing was changed."]),
      );
    }
    if (outcome === "shortens") {
      return htmlPage(
        409,
        messagePage(frame, "Not reactivated", [SHORTENS_MESSAGE, "Nothing was changed."]),
      );
    }
    return redirect(`${passPath(frame.mount, id)}?done=${action}d`);
  }

  /** What reactivating `visitor` now would take off its expiry, or `null` when nothing. */
  #shortening(visitor: Visitor) {
    const { tokenExpiry, now } = this.#passes.config;
    return reactivationShortens(visitor, tokenExpiry, now());
  }

  /** One change to the pass with `id`, as the per-pass buttons and the bulk form make it. */
  async #change(
    id: number,
    action: "deactivate" | "reactivate",
  ): Promise<"changed" | "gone" | "unclaimed" | "shortens" | "promoted"> {
    const visitor = await this.#passes.getById(id);
    if (!visitor) return "gone";
    if (action === "reactivate" && visitor.isUnclaimedRequest) return "unclaimed";
    if (action === "reactivate" && visitor.isPromoted) return "promoted";
    // The admin never shortens a pass: reactivating is for a pass that is off or about to end.
    if (action === "reactivate" && this.#shortening(visitor) !== null) return "shortens";
    try {
      return (await this.#passes[action](visitor.uuid)) ? "changed" : "gone";
    } catch (error) {
      if (error instanceof UnclaimedRequestError) return "unclaimed";
      if (error instanceof PromotedPassError) return "promoted";
      throw error;
    }
  }

  async #bulk(frame: Frame, form: Record<string, unknown>): Promise<PageResponse> {
    const action = first(form.action);
    if (action === undefined || !ACTIONS.has(action)) {
      return this.#badRequest(frame, ['Choose "Deactivate selected" or "Reactivate selected".']);
    }
    const values = [...new Set(all(form.id))];
    if (values.length > MAX_BULK) {
      return this.#badRequest(frame, [`Select at most ${MAX_BULK} passes at once.`]);
    }
    const ids = values.map(passId);
    if (ids.some((id) => id === null)) {
      return this.#badRequest(frame, ["One of the selected passes is not a pass id."]);
    }
    // At once rather than one after the other: on SQLite each write resolves only once every
    // process's pass cache must see it (a few ms), and those waits then overlap.
    const outcomes = await Promise.all(
      (ids as number[]).map((id) => this.#change(id, action as "deactivate" | "reactivate")),
    );
    const count = (outcome: string) => outcomes.filter((o) => o === outcome).length;
    const back = parseListParams(new URLSearchParams(first(form.return) ?? ""));
    const params: ListParams = back.ok ? back.params : DEFAULT_LIST;
    const query = new URLSearchParams(listQuery(params));
    query.set("done", ids.length === 0 ? "none" : `${action}d`);
    query.set("count", String(count("changed")));
    if (count("unclaimed") > 0) query.set("skipped", String(count("unclaimed")));
    if (count("shortens") > 0) query.set("kept", String(count("shortens")));
    if (count("promoted") > 0) query.set("promotedSkipped", String(count("promoted")));
    return redirect(`${frame.mount}/?${query}`);
  }

  #link(request: AdminRequest, visitor: Visitor): string | null {
    if (visitor.isUnclaimedRequest) return null;
    if (this.#passes.config.tokenStorage !== "plain" || !isUuid(visitor.uuid)) return null;
    return this.#passes.tokenise(this.#baseUrl ?? `${request.baseUrl}/`, visitor);
  }

  #notFound(frame: Frame, message: string): PageResponse {
    return htmlPage(404, messagePage(frame, "Not found", [message]));
  }

  #badRequest(frame: Frame, messages: readonly string[]): PageResponse {
    return htmlPage(400, messagePage(frame, "Bad request", messages));
  }
}

/**
 * Splits a request path into the mount point and the path below it, given the route pattern that
 * matched (`<mount>/*`, `<mount>/` or `<mount>`): the mount has as many segments as the pattern
 * before its wildcard, so a mount with parameters (`/:tenant/admin`) works too.
 */
export function splitMount(pattern: string, pathname: string): { mount: string; path: string } {
  const prefix = pattern.replace(/\/?\*$/, "").replace(/\/+$/, "");
  const depth = prefix === "" ? 1 : prefix.split("/").length;
  const mount = pathname.split("/").slice(0, depth).join("/");
  return { mount, path: pathname.slice(mount.length) || "/" };
}

function parseRoute(path: string): Route {
  const segments: string[] = [];
  for (const part of path.split("/")) {
    if (part === "") continue;
    try {
      segments.push(decodeURIComponent(part));
    } catch {
      return { page: "notFound" };
    }
  }
  const [head, id, action] = segments;
  if (segments.length === 0) return { page: "list" };
  if (segments.length === 1 && head === "sharing") return { page: "sharing" };
  if (segments.length === 1 && head === "logs") return { page: "logs" };
  if (segments.length === 1 && head === "bulk") return { page: "bulk" };
  if (segments.length === 1 && head === "outbox") return { page: "outbox" };
  // Passes are addressed by id only: a token in a URL would reach every request log.
  const pass = id === undefined ? null : passId(id);
  if (head === "passes" && pass !== null) {
    if (segments.length === 2) return { page: "pass", id: pass };
    if (segments.length === 3 && (action === "deactivate" || action === "reactivate")) {
      return { page: "action", id: pass, action };
    }
  }
  return { page: "notFound" };
}

/** The pass id in `value` (a URL segment or a form value), or `null` if it cannot be one. */
function passId(value: string): number | null {
  return PASS_ID.test(value) ? Number(value) : null;
}

const SHORTENS_MESSAGE =
  "This pass is active and its link works longer than reactivating would give it: reactivating sets the expiry to now plus the token expiry, so it would only shorten it.";

const PROMOTED_MESSAGE =
  "This pass was promoted to an account: the visitor is a user now, and the pass cannot be reactivated.";

const UNCLAIMED_MESSAGE =
  "This is a self-service request whose form was never completed: it has no email, so it cannot be reactivated. Only completing the form activates it.";

function redirect(location: string): PageResponse {
  return { status: 303, headers: { Location: location, "Cache-Control": "no-store" }, body: "" };
}

function first(value: unknown): string | undefined {
  const one = Array.isArray(value) ? value[0] : value;
  return typeof one === "string" ? one : undefined;
}

function all(value: unknown): string[] {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.filter((v): v is string => typeof v === "string" && v !== "");
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== "string") return false;
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function listNotice(query: URLSearchParams): string | null {
  const done = query.get("done");
  const number = (name: string) => {
    const n = Number(query.get(name));
    return Number.isInteger(n) && n >= 0 ? n : 0;
  };
  const n = number("count");
  const passes = `${n} pass${n === 1 ? "" : "es"}`;
  const skipped = number("skipped");
  const skippedNote =
    skipped === 0
      ? ""
      : ` Skipped ${skipped} self-service request${skipped === 1 ? "" : "s"} whose form was never completed: with no email, ${skipped === 1 ? "it" : "they"} cannot be reactivated.`;
  if (done === "none") return "No passes were selected: nothing changed.";
  if (done === "deactivated") return `Deactivated ${passes}.`;
  const kept = number("kept");
  const keptNote =
    kept === 0
      ? ""
      : ` Left ${kept} active pass${kept === 1 ? "" : "es"} as ${kept === 1 ? "it was" : "they were"}: ${kept === 1 ? "its" : "their"} link works longer than reactivating would give.`;
  const promoted = number("promotedSkipped");
  const promotedNote =
    promoted === 0
      ? ""
      : ` Left ${promoted} promoted pass${promoted === 1 ? "" : "es"} off: promoted to an account, ${promoted === 1 ? "it" : "they"} cannot be reactivated.`;
  if (done === "reactivated") {
    return `Reactivated ${passes}.${skippedNote}${keptNote}${promotedNote}`;
  }
  return null;
}

function passNotice(query: URLSearchParams): string | null {
  const done = query.get("done");
  if (done === "deactivated")
    return "Deactivated: the link and every session holding it stopped working.";
  if (done === "reactivated") return "Reactivated: the link works again, with a fresh expiry.";
  return null;
}
