/**
 * The Hono adapter: middleware with an encrypted cookie (or a session you plug in), the guard, the self-service and admin sub-apps.
 *
 * @module visitor-pass/hono
 */
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import { setupError } from "../../core/errors.js";
import { createGuard, type GuardOptions } from "../../core/guard.js";
import type { SessionPort } from "../../core/ports.js";
import { hasUser } from "../../core/request-flow.js";
import type { Visitor } from "../../core/visitor.js";
import type { VisitorPass } from "../../core/visitor-pass.js";
import { fetchEntry } from "../fetch/fetch-entry.js";
import type { Continue, Respond } from "../fetch/index.js";
import { clientAddress } from "./hono-client-address.js";

declare module "hono" {
  interface ContextVariableMap {
    /** The visitor admitted by a token on this request or restored from the stash. */
    visitor: Visitor | null;
    /** Whether `visitor` is set. */
    isVisitor: boolean;
  }
}

export type { GuardOptions, MatchRequest } from "../../core/guard.js";
export type { SessionPort } from "../../core/ports.js";
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

const STATE = "visitorPass:state";

/** The request as the Fetch entry point let it go on: its visitor, guards and `finish`. */
function stateOf(c: Context, caller: string): Continue {
  const state = c.get(STATE as never) as Continue | undefined;
  if (!state) throw setupError(`${caller} needs the visitorPass(passes, …) middleware before it.`);
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
  const isAuthenticated = options.isAuthenticated ?? ((c: Context) => hasUser(c.var));
  const { session } = options;
  const entry = fetchEntry(
    passes,
    {
      secret: options.secret,
      cookieName: options.cookieName,
      maxAge: options.maxAge,
      secure: options.secure,
    },
    { caller: "visitorPass() for Hono", sessionPerRequest: session !== undefined },
  );

  return async (c, next) => {
    c.set("visitor", null);
    c.set("isVisitor", false);
    const result = await entry.handle(c.req.raw, {
      clientAddress: clientAddress(c),
      authenticated: isAuthenticated(c),
      ...(session ? { session: await session(c) } : {}),
    });
    if (result.kind === "respond") return send(c, result.response);
    c.set(STATE as never, result as never);
    c.set("visitor", result.visitor);
    c.set("isVisitor", result.visitor !== null);
    // Without its token: `c.req.url`, `c.req.query()` and the app's request logs never see it.
    if (result.request !== c.req.raw) c.req.raw = result.request;
    await next();
    const finished = await result.finish(c.res);
    if (finished !== c.res) {
      // A copy (the route's response had immutable headers): replaced as it is, not merged.
      c.res = undefined;
      c.res = finished;
    }
  };
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
  createGuard(options);
  return async (c, next) => {
    const state = stateOf(c, "userIsVisitor()");
    // The guard decides on the visitor as the app sees it (it may have set one itself).
    state.visitor = c.get("visitor");
    const answer = await state.guard(options, c, c.req.param() as Record<string, unknown>);
    if (!answer) return next();
    if (!answer.error) return send(c, answer.response);
    throw refusal(c, answer);
  };
}

/**
 * A guard's refusal as Hono's `HTTPException`, its `cause` the package's error and its response
 * the core's page. Headers it needs (`Retry-After`) are set on the context too, for an `onError`
 * that renders its own response.
 */
function refusal(c: Context, answer: Respond): HTTPException {
  const error = answer.error!;
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
  keepCookies(c, answer.response);
  return new HTTPException(error.status as ContentfulStatusCode, {
    message: error.message,
    cause: error,
    res: answer.response,
  });
}

/**
 * Sends an answer of the core's through the context, so that what the app or a middleware before
 * set on it (its own cookies, headers) goes out too.
 */
function send(c: Context, response: Response): Response {
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") c.header(name, value);
  });
  keepCookies(c, response);
  return c.newResponse(response.body, response.status as StatusCode);
}

/**
 * The answer's cookies (the stash) set on the context: Hono keeps the context's own cookies when
 * a response replaces another, and would drop these.
 */
function keepCookies(c: Context, response: Response): void {
  for (const cookie of response.headers.getSetCookie()) {
    c.header("Set-Cookie", cookie, { append: true });
  }
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
  state.visitor = c.get("visitor");
  state.clear();
  state.visitor = null;
  c.set("visitor", null);
  c.set("isVisitor", false);
}
