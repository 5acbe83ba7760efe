/**
 * The Hono adapter: middleware with an encrypted cookie (or a session you plug in), the guard, the self-service and admin sub-apps.
 *
 * @module visitor-pass/hono
 */
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  VisitorPassError,
  type VisitorPassHttpError,
  VisitorPassThrottled,
  type VisitorPassUnavailable,
} from "../../core/errors.js";
import {
  answerOf,
  createGuard,
  type GuardOptions,
  type SessionPort,
  type VisitorFlow,
  type VisitRequest,
} from "../../core/flow.js";
import { htmlPage, PAGE_HEADERS } from "../../core/page.js";
import { stripToken } from "../../core/tokens.js";
import type { Visitor } from "../../core/visitor.js";
import { flowOf, type VisitorPass } from "../../core/visitor-pass.js";
import { throttledPage } from "../../ui/refusal-pages.js";
import { stashOptions } from "../fetch/cookie-stash.js";
import { clientAddress } from "./hono-client-address.js";
import { type CommittableSession, cookieStash } from "./hono-cookie-session.js";
import { pageResponse } from "./hono-response.js";

declare module "hono" {
  interface ContextVariableMap {
    /** The visitor admitted by a token on this request or restored from the stash. */
    visitor: Visitor | null;
    /** Whether `visitor` is set. */
    isVisitor: boolean;
  }
}

export type { GuardOptions, SessionPort } from "../../core/flow.js";
export type {
  Closable,
  CloseGracefullyOptions,
  CloseResult,
  HandleSignalsOptions,
} from "../../server/graceful-close.js";
export { handleSignals } from "../../server/graceful-close.js";
export { type HonoAdminOptions, visitorAdmin } from "./hono-admin.js";
export { closeGracefully } from "./hono-close.js";
export { selfService } from "./hono-self-service.js";

/**
 * Options of `visitorPass`.
 *
 * @example
 * ```ts
 * // The visitor in an encrypted cookie of its own:
 * app.use(visitorPass(passes, { secret: process.env.VISITOR_PASS_SECRET!, maxAge: 8 * 3600 }));
 * // Or in a server-side session the app already has:
 * app.use(visitorPass(passes, { session: (c) => mySessionPort(c) }));
 * ```
 */
export interface HonoVisitorPassOptions {
  /**
   * Keys the stash cookie, which is sealed with AES-256-GCM under a key derived from this with
   * HKDF-SHA256; at least 32 characters. Required unless `session` is given.
   */
  secret?: string;
  /**
   * Name of the stash cookie on http; on https it is `__Host-` and this name (a cookie token of
   * at most 200 characters).
   * @default "visitor_pass"
   */
  cookieName?: string;
  /**
   * Whether the stash cookie is for https only: named `__Host-<cookieName>`, with `Secure`,
   * `Path=/` and no `Domain`. Set `true` behind a proxy that ends TLS, where the request URL
   * says http.
   * @default whether the request URL is https
   */
  secure?: boolean;
  /**
   * The stash cookie's lifetime in seconds, the app's cookie policy: the cookie lives this long
   * for a pass with `sessionExpiry: null` and for a signed-in user. A pass with `sessionExpiry: 0`
   * gets a cookie that ends with the browser, which the server refuses after this long whatever
   * the browser keeps; a pass with a lifetime of its own gets that lifetime, enforced the same way.
   * @default 86400
   */
  maxAge?: number;
  /**
   * A server-side session instead of the cookie: return the core's `SessionPort` over your own
   * session for this request.
   */
  session?: (c: Context) => SessionPort | Promise<SessionPort>;
  /**
   * Whether a user is signed in; a visitor's session cookie lifetime only applies when not.
   * @default (c) => c.var.user != null
   */
  isAuthenticated?: (c: Context) => boolean;
}

interface RequestState {
  flow: VisitorFlow;
  /** The request as the core sees it, read once (with its token: the core strips it). */
  incoming: VisitRequest;
  session: SessionPort;
  unavailable: VisitorPassUnavailable | null;
}

const STATE = "visitorPass:state";

function visitRequest(c: Context): VisitRequest {
  const url = new URL(c.req.url);
  return {
    method: c.req.method,
    url: `${url.pathname}${url.search}`,
    userAgent: c.req.header("user-agent") ?? null,
    referer: c.req.header("referer") ?? null,
    ip: clientAddress(c),
    origin: c.req.header("origin") ?? null,
    secFetchSite: c.req.header("sec-fetch-site") ?? null,
    host: c.req.header("host") ?? null,
  };
}

function isCommittable(session: SessionPort): session is CommittableSession {
  return typeof (session as Partial<CommittableSession>).commit === "function";
}

function stateOf(c: Context, caller: string): RequestState {
  const state = c.get(STATE as never) as RequestState | undefined;
  if (!state) {
    throw new VisitorPassError(
      `${caller} needs the visitorPass(passes, …) middleware before it.`,
      "VISITOR_PASS_SETUP",
    );
  }
  return state;
}

/**
 * The visitor-pass middleware: recognises a token on the query string (admitting, rotating the
 * stash and redirecting off the token), restores a stashed visitor, and sets `c.var.visitor` and
 * `c.var.isVisitor`. The stash is an encrypted cookie unless `session` plugs in a server-side one.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createVisitorPass } from "visitor-pass";
 * import { visitorPass } from "visitor-pass/hono";
 *
 * const passes = createVisitorPass();
 * await passes.migrate();
 * const app = new Hono();
 * // Before the routes: c.var.visitor, c.var.isVisitor. The secret seals the visitor's cookie.
 * app.use(visitorPass(passes, { secret: process.env.VISITOR_PASS_SECRET! }));
 * ```
 */
export function visitorPass(
  passes: VisitorPass,
  options: HonoVisitorPassOptions = {},
): MiddlewareHandler {
  const flow = flowOf(passes, "visitorPass()");
  const isAuthenticated =
    options.isAuthenticated ?? ((c: Context) => (c.var as { user?: unknown }).user != null);
  const stash = options.session
    ? null
    : cookieStash(stashOptions(options, flow, "visitorPass() for Hono"));

  return async (c, next) => {
    c.set("visitor", null);
    c.set("isVisitor", false);
    const session: SessionPort | CommittableSession = stash
      ? await stash(c)
      : await options.session!(c);
    const commit = () => (isCommittable(session) ? session.commit() : Promise.resolve());
    const visit = visitRequest(c);
    const state: RequestState = { flow, incoming: visit, session, unavailable: null };
    c.set(STATE as never, state as never);

    const context = { authenticated: isAuthenticated(c) };
    const recognition = await flow.recognise(visit, session, context);
    const answer = answerOf(recognition);
    if (answer) return pageResponse(answer);
    if (recognition.kind !== "none") hideToken(c, flow);
    const settlement = await flow.settle(visit, session, recognition, context);
    state.unavailable = settlement.unavailable;
    c.set("visitor", settlement.visitor);
    c.set("isVisitor", settlement.visitor !== null);
    if (settlement.redirectTo !== null) {
      await commit();
      for (const [name, value] of Object.entries(settlement.redirectHeaders ?? {})) {
        c.header(name, value);
      }
      return c.redirect(settlement.redirectTo, settlement.redirectStatus ?? 302);
    }
    await commit();
    await next();
    await commit();
  };
}

/**
 * Takes the token off the request the app sees next (`c.req.url`, `c.req.query()`, its request
 * logs): the URL of a `Request` cannot change, so `c.req.raw` is replaced by a copy at the URL
 * without it, as Hono's own bodyLimit middleware replaces it with a copy of another body.
 */
function hideToken(c: Context, flow: VisitorFlow): void {
  const raw = c.req.raw;
  const url = new URL(raw.url);
  const clean = stripToken(`${url.pathname}${url.search}`, flow.config.querystringKey);
  if (clean === `${url.pathname}${url.search}`) return;
  const init: RequestInit & { duplex?: "half" } = {
    method: raw.method,
    headers: raw.headers,
    signal: raw.signal,
    redirect: raw.redirect,
  };
  if (raw.body) {
    init.body = raw.body;
    init.duplex = "half";
  }
  c.req.raw = new Request(new URL(clean, url), init);
}

/**
 * Guards a route: admits visitors whose pass has `scope` (any scope with `SCOPE_ANY`), or anyone
 * `bypass(c)` lets through; otherwise throws an `HTTPException` 403 (503 while the store is
 * failing) whose `cause` is the `VisitorAccessDenied` (or `VisitorPassUnavailable`). With
 * `selfService`, a request over its network's budget gets a 429 (`VisitorPassThrottled`, with
 * `Retry-After`), and one whose URL is too long to remember a 414 (`VisitorPassUriTooLong`).
 *
 * @example
 * ```ts
 * import { userIsVisitor } from "visitor-pass/hono";
 *
 * const onlyReferees = userIsVisitor({ scope: "REFERENCE_REQUEST" });
 * app.get("/reference", onlyReferees, (c) => c.text(`Hello ${c.var.visitor?.firstName}`));
 * ```
 */
export function userIsVisitor(options: GuardOptions<Context>): MiddlewareHandler {
  const guard = createGuard(options);
  return async (c, next) => {
    const state = stateOf(c, "userIsVisitor()");
    const visitor = c.get("visitor");
    const outcome = await state.flow.guardRequest(guard, c, visitor, {
      visit: state.incoming,
      session: state.session,
      unavailable: state.unavailable,
    });
    if (outcome.kind === "redirect") return c.redirect(outcome.location, outcome.status);
    if (outcome.kind === "deny") throw refusal(c, outcome.error);
    await next();
    for (const name in outcome.headers) {
      if (!c.res.headers.has(name)) c.header(name, outcome.headers[name]);
    }
    const { log } = outcome;
    if (log) state.flow.recordPending(log, c.res.status);
  };
}

/**
 * A guard's refusal as Hono's `HTTPException`, its `cause` the package's error. Headers it needs
 * (`Retry-After`) are set on the context, for an `onError` that renders its own response, and on
 * the exception's response, which Hono's default handler sends: a small page for a 429.
 */
function refusal(c: Context, error: VisitorPassHttpError): HTTPException {
  const headers = error.headers ?? {};
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  const res =
    error instanceof VisitorPassThrottled
      ? pageResponse({
          ...htmlPage(429, throttledPage(error.retryAfter)),
          headers: { ...PAGE_HEADERS, ...headers },
        })
      : undefined;
  return new HTTPException(error.status as ContentfulStatusCode, {
    message: error.message,
    cause: error,
    res,
  });
}

/**
 * Ends visitor access for this session at once: the "final step" of a visitor's journey.
 *
 * @example
 * ```ts
 * app.post("/reference", onlyReferees, async (c) => {
 *   await saveReference(c.var.visitor!, await c.req.parseBody());
 *   clearVisitor(c); // this session loses its access at once
 *   return c.redirect("/thanks", 303);
 * });
 * ```
 */
export function clearVisitor(c: Context): void {
  const state = stateOf(c, "clearVisitor()");
  state.flow.clear(state.session, c.get("visitor"));
  c.set("visitor", null);
  c.set("isVisitor", false);
}
