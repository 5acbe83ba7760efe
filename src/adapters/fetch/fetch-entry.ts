import { VisitorPassConfigError, VisitorPassUnavailable } from "../../core/errors.js";
import { guardOf } from "../../core/guard.js";
import type { SessionPort, VisitRequest } from "../../core/ports.js";
import type {
  Respond as FlowRespond,
  FlowResult,
  PendingVisit,
  VisitorFlow,
} from "../../core/request-flow.js";
import { flowOf, type VisitorPass } from "../../core/visitor-pass.js";
import { cookieStash, type StashSession, stashOptions } from "./cookie-stash.js";
import type { Continue, FetchVisitorPass, FetchVisitorPassOptions, Respond } from "./index.js";

/** How an adapter built on this entry point (Hono's) sets it up. */
export interface FetchEntrySetup {
  /** Who is speaking in setup errors, e.g. `visitorPass() for Hono`. */
  caller: string;
  /** The adapter hands each request's server session to `handle` (no cookie stash). */
  sessionPerRequest: boolean;
}

/** `visitorPassFetch`, for an adapter built on it. */
export function fetchEntry(
  passes: VisitorPass,
  options: FetchVisitorPassOptions,
  setup: FetchEntrySetup,
): FetchVisitorPass {
  const flow = flowOf(passes, setup.caller);
  for (const name of ["session", "isAuthenticated"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new VisitorPassConfigError(name, options[name], "must be a function");
    }
  }
  const isAuthenticated = options.isAuthenticated ?? (() => false);
  // Without a server session of its own the stash is the encrypted cookie.
  const stash =
    options.session === undefined && !setup.sessionPerRequest
      ? cookieStash(stashOptions(options, flow, setup.caller))
      : null;
  return {
    async handle(request, handleOptions = {}) {
      const guard = handleOptions.guard ? guardOf(handleOptions.guard) : null;
      const session: SessionPort | StashSession =
        handleOptions.session ?? (stash ? await stash(request) : await options.session!(request));
      const visit = visitRequest(request, handleOptions.clientAddress ?? null);
      const authenticated = handleOptions.authenticated ?? (await isAuthenticated(request));
      const exchange = new Exchange(flow, session, visit);
      const failedEarlier = handleOptions.unavailable ? new VisitorPassUnavailable() : null;
      const result = await flow.handle(
        visit,
        session,
        { authenticated },
        guard,
        request,
        failedEarlier,
        handleOptions.params,
      );
      if (result.kind === "respond") return exchange.respond(result);
      exchange.admitted(result);
      const seen = result.hideToken ? withoutToken(request, flow) : request;
      const continued: Continue = {
        kind: "continue",
        visitor: result.visitor,
        request: seen,
        unavailable: (result.unavailable ?? failedEarlier) !== null,
        guard: async (described, bypassArgument, params) => {
          const guarded = await flow.guard(guardOf(described), bypassArgument, continued.visitor, {
            visit,
            session,
            unavailable: result.unavailable ?? failedEarlier,
            params,
          });
          if (guarded.kind === "respond") return exchange.respond(guarded);
          exchange.admitted(guarded);
          return null;
        },
        finish: (response) => exchange.finish(response),
        clear: () => {
          flow.clear(session, continued.visitor);
          continued.visitor = null;
        },
      };
      return continued;
    },
  };
}

/**
 * One request's dealings with its session and visit logs: what the guards let through is owed
 * to the visit log, with the status of the response `finish` completes.
 */
class Exchange {
  readonly #owed: PendingVisit[] = [];
  #headers: Readonly<Record<string, string>> | null = null;

  constructor(
    readonly flow: VisitorFlow,
    readonly session: SessionPort | StashSession,
    readonly visit: VisitRequest,
  ) {}

  admitted(result: Extract<FlowResult, { kind: "continue" }>): void {
    if (result.log) this.#owed.push(result.log);
    if (result.headers) this.#headers = { ...this.#headers, ...result.headers };
  }

  async #commit(): Promise<string | null> {
    const { session } = this;
    return isStash(session) ? session.commit() : null;
  }

  /** The core's answer as a `Response`, with the stash's cookie when the session changed. */
  async respond(result: FlowRespond): Promise<Respond> {
    const response = new Response(result.body, { status: result.status, headers: result.headers });
    const cookie = await this.#commit();
    if (cookie !== null) response.headers.append("Set-Cookie", cookie);
    return result.error
      ? { kind: "respond", response, error: result.error }
      : { kind: "respond", response };
  }

  async finish(response: Response): Promise<Response> {
    const finished = withHeaders(response, await this.#commit(), this.#headers);
    for (const visit of this.#owed.splice(0)) this.flow.recordPending(visit, finished.status);
    return finished;
  }
}

function isStash(session: SessionPort | StashSession): session is StashSession {
  return typeof (session as Partial<StashSession>).commit === "function";
}

function visitRequest(request: Request, ip: string | null): VisitRequest {
  const url = new URL(request.url);
  const headers = request.headers;
  return {
    method: request.method,
    url: `${url.pathname}${url.search}`,
    userAgent: headers.get("user-agent"),
    referer: headers.get("referer"),
    ip,
    origin: headers.get("origin"),
    secFetchSite: headers.get("sec-fetch-site"),
    host: headers.get("host") ?? url.host,
  };
}

/** `request` at its URL without the token: a `Request`'s URL cannot change, so it is copied. */
function withoutToken(request: Request, flow: VisitorFlow): Request {
  const url = new URL(request.url);
  const clean = flow.withoutToken(`${url.pathname}${url.search}`);
  if (clean === `${url.pathname}${url.search}`) return request;
  const init: RequestInit & { duplex?: "half" } = {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    redirect: request.redirect,
  };
  if (request.body) {
    init.body = request.body;
    init.duplex = "half";
  }
  return new Request(new URL(clean, url), init);
}

/** `response` with the stash's cookie and the guard's headers (unless it has its own). */
function withHeaders(
  response: Response,
  cookie: string | null,
  headers: Readonly<Record<string, string>> | null,
): Response {
  const missing = headers ? Object.keys(headers).filter((name) => !response.headers.has(name)) : [];
  if (cookie === null && missing.length === 0) return response;
  let target = response;
  try {
    apply(target.headers);
  } catch {
    // Headers of a `Response.redirect()` or a `fetch()` result are immutable: copy the response.
    target = new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    apply(target.headers);
  }
  return target;

  function apply(into: Headers): void {
    for (const name of missing) into.set(name, headers![name]!);
    if (cookie !== null) into.append("Set-Cookie", cookie);
  }
}
