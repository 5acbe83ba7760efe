/**
 * The Express adapter: middleware for the session, the guard, the self-service and admin pages.
 *
 * @module visitor-pass/express
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { createGuard, type GuardOptions, type MaybePromise } from "../../core/guard.js";
import { NO_TOKEN } from "../../core/recognise.js";
import { type FlowResult, hasUser, type VisitorFlow } from "../../core/request-flow.js";
import type { Visitor } from "../../core/visitor.js";
import { flowOf, type VisitorPass } from "../../core/visitor-pass.js";
import {
  keepState,
  type RequestState,
  setupError,
  setVisitor,
  stateOf,
} from "./express-request-state.js";
import { sendPage } from "./express-response.js";
import { sessionPort } from "./express-session-port.js";
import { ExpressVisit } from "./express-visit.js";
import { recordWithStatus } from "./express-visit-log.js";

declare global {
  namespace Express {
    interface Request {
      /** The visitor admitted by a token on this request or restored from the session. */
      visitor: Visitor | null;
      /** Whether `visitor` is set. */
      isVisitor: boolean;
    }
  }
}

export type { GuardOptions, MatchRequest } from "../../core/guard.js";
export type {
  Closable,
  CloseGracefullyOptions,
  CloseResult,
  HandleSignalsOptions,
} from "../../server/graceful-close.js";
export { closeGracefully, handleSignals } from "../../server/graceful-close.js";
export { type ExpressAdminOptions, visitorAdmin } from "./express-admin.js";
export { selfService } from "./express-self-service.js";

/**
 * Options of `visitorRequest`, `visitorSession` and `visitorPass`.
 *
 * @example
 * ```ts
 * app.use(visitorPass(passes, { isAuthenticated: (req) => req.session.user != null }));
 * ```
 */
export interface VisitorSessionOptions {
  /**
   * Whether a user is signed in; a visitor's session cookie lifetime only applies when not.
   * @default (req) => req.user != null
   */
  isAuthenticated?: (req: Request) => boolean;
}

/**
 * Options of `visitorPass`: those of `visitorSession`.
 *
 * @example
 * ```ts
 * app.use(visitorPass(passes, { isAuthenticated: (req) => req.session.user != null }));
 * ```
 */
export type VisitorPassMiddlewareOptions = VisitorSessionOptions;

/**
 * Recognises a token on the query string: sets `req.visitor` and `req.isVisitor`. No token: nothing
 * happens; an unknown, inactive or expired one: the request goes on as anonymous; a malformed one:
 * 400 "Malformed visitor token.". The token is then removed from `req.url` and `req.originalUrl`,
 * so the app's own request logs never show it.
 *
 * @example
 * ```ts
 * import session from "express-session";
 * import { visitorRequest, visitorSession } from "visitor-pass/express";
 *
 * app.use(session({ secret: process.env.SESSION_SECRET!, resave: false, saveUninitialized: false }));
 * app.use(visitorRequest(passes)); // req.visitor when the URL carries a token
 * app.use(myAuthentication); // e.g. something that must not see the token
 * app.use(visitorSession(passes, { isAuthenticated: (req) => req.session.user != null }));
 * ```
 */
export function visitorRequest(
  passes: VisitorPass,
  options: VisitorSessionOptions = {},
): RequestHandler {
  const flow = flowOf(passes, "visitorRequest()");
  const isAuthenticated = options.isAuthenticated ?? hasUser;
  return (req, res, next) => recognise(flow, isAuthenticated, false, req, res, next);
}

/**
 * Stashes a newly admitted visitor in `req.session` (with a new session id, then a redirect off
 * the token's URL on a GET), or restores one already stashed there. Needs express-session (or a
 * compatible session middleware) and `visitorRequest` before it.
 *
 * @example
 * ```ts
 * app.use(session({ secret: process.env.SESSION_SECRET!, resave: false, saveUninitialized: false }));
 * app.use(visitorRequest(passes));
 * app.use(visitorSession(passes)); // stashes a new visitor, or restores one
 * ```
 */
export function visitorSession(
  passes: VisitorPass,
  options: VisitorSessionOptions = {},
): RequestHandler {
  const flow = flowOf(passes, "visitorSession()");
  const { isAuthenticated } = options;
  return (req, res, next) => settle(flow, isAuthenticated, req, res, next);
}

/**
 * `visitorRequest` and `visitorSession` in one middleware.
 *
 * @example
 * ```ts
 * import express from "express";
 * import session from "express-session";
 * import { createVisitorPass } from "visitor-pass";
 * import { visitorPass } from "visitor-pass/express";
 *
 * const passes = createVisitorPass();
 * await passes.migrate();
 * const app = express();
 * app.use(session({ secret: process.env.SESSION_SECRET!, resave: false, saveUninitialized: false }));
 * app.use(visitorPass(passes)); // after the session middleware: req.visitor, req.isVisitor
 * ```
 */
export function visitorPass(
  passes: VisitorPass,
  options: VisitorPassMiddlewareOptions = {},
): RequestHandler {
  const flow = flowOf(passes, "visitorPass()");
  const isAuthenticated = options.isAuthenticated ?? hasUser;
  return (req, res, next) => recognise(flow, isAuthenticated, true, req, res, next);
}

const MISSING_SESSION =
  "visitorSession() needs req.session: mount express-session (or a compatible session middleware) before it.";

/*
 * The middleware bodies: each reads the request into the core's ports, calls the core once and
 * applies its result, synchronously when the core had nothing to wait for (no token, a pass the
 * cache holds): most requests then cost no promise and no closure.
 */

/**
 * `visitorPass` (`andSettle`), or the first half alone (`visitorRequest`): what the token comes
 * to, then the session.
 */
function recognise(
  flow: VisitorFlow,
  isAuthenticated: (req: Request) => boolean,
  andSettle: boolean,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  let state: RequestState;
  let result: MaybePromise<FlowResult>;
  try {
    const visit = new ExpressVisit(req, isAuthenticated);
    const session = sessionPort(req);
    state = {
      flow,
      url: visit.url,
      isAuthenticated,
      recognition: NO_TOKEN,
      unavailable: null,
      owed: null,
    };
    keepState(req, state, null);
    result = andSettle
      ? flow.enter(visit, session, visit, MISSING_SESSION)
      : flow.recognise(visit, session, visit);
  } catch (error) {
    next(error);
    return;
  }
  applyWhenDecided(state, result, req, res, next);
}

/** The second half (`visitorSession`): the session consulted after the app's own middleware. */
function settle(
  flow: VisitorFlow,
  isAuthenticated: ((req: Request) => boolean) | undefined,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  let state: RequestState;
  let result: MaybePromise<FlowResult>;
  try {
    state = stateOf(req, "visitorSession()");
    if (state.flow !== flow) {
      throw setupError("visitorSession() and visitorRequest() were given different passes.");
    }
    const visit = new ExpressVisit(req, state.isAuthenticated, state.url);
    const context = isAuthenticated ? new ExpressVisit(req, isAuthenticated) : visit;
    result = flow.settle(visit, sessionPort(req), context, state.recognition, MISSING_SESSION);
  } catch (error) {
    next(error);
    return;
  }
  applyWhenDecided(state, result, req, res, next);
}

/** `apply`, at once when the core decided without waiting, else once it has. */
function applyWhenDecided(
  state: RequestState,
  result: MaybePromise<FlowResult>,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  if (result instanceof Promise) {
    result.then((decided) => apply(state, decided, req, res, next), next);
  } else {
    apply(state, result, req, res, next);
  }
}

/** What the core decided, applied: the answer sent, or the visitor set and the token hidden. */
function apply(
  state: RequestState,
  result: FlowResult,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  setVisitor(req, result.visitor);
  if (result.kind === "respond") {
    sendPage(res, result);
    return;
  }
  state.recognition = result.recognition;
  state.unavailable = result.unavailable;
  if (result.hideToken) {
    req.url = state.flow.withoutToken(req.url);
    req.originalUrl = state.flow.withoutToken(req.originalUrl);
  }
  next();
}

/**
 * Guards a route: admits visitors whose pass has `scope` (any scope with `SCOPE_ANY`), or anyone
 * `bypass(req)` lets through; otherwise passes `VisitorAccessDenied` (403) to `next`, or
 * `VisitorPassUnavailable` (503) while the store is failing. With `selfService`, a request over
 * its network's budget passes `VisitorPassThrottled` (429, its `Retry-After` header already set
 * on `res`), and one whose URL is too long to remember `VisitorPassUriTooLong` (414). Each admitted visitor's visit is
 * logged with the final status code unless `logVisit` is false.
 *
 * @example
 * ```ts
 * import { userIsVisitor } from "visitor-pass/express";
 *
 * const onlyReferees = userIsVisitor({
 *   scope: "REFERENCE_REQUEST",
 *   bypass: (req) => req.session.user?.isStaff === true, // staff see the page too
 * });
 * app.get("/reference", onlyReferees, (req, res) => {
 *   res.send(`Hello ${req.visitor?.firstName}`);
 * });
 * // Someone without a pass is sent to the self-service form instead of a 403.
 * app.get("/early-access", userIsVisitor({ scope: "EARLY_ACCESS", selfService: true }), page);
 * ```
 */
export function userIsVisitor(options: GuardOptions<Request>): RequestHandler {
  const guard = createGuard(options);
  return (req: Request, res: Response, next: NextFunction) => {
    let state: RequestState;
    let result: MaybePromise<FlowResult>;
    try {
      state = stateOf(req, "userIsVisitor()");
      const visitor = req.visitor ?? null;
      // The guard decides on what the app may have set itself; `req.isVisitor` follows it.
      req.isVisitor = visitor !== null;
      result = state.flow.guard(guard, req, visitor, {
        visit: new ExpressVisit(req, state.isAuthenticated, state.url),
        session: sessionPort(req),
        unavailable: state.unavailable,
        params: req.params,
      });
    } catch (error) {
      return next(error);
    }
    if (result instanceof Promise) {
      result.then((decided) => afterGuard(state, decided, res, next), next);
    } else {
      afterGuard(state, result, res, next);
    }
  };
}

function afterGuard(
  state: RequestState,
  result: FlowResult,
  res: Response,
  next: NextFunction,
): void {
  if (result.kind === "respond") {
    if (!result.error) {
      sendPage(res, result);
      return;
    }
    // Set here too, for an app error handler that renders the error its own way.
    if (result.error.headers) res.set(result.error.headers);
    next(result.error);
    return;
  }
  if (result.log) recordWithStatus(res, state, result.log);
  // Set before the route runs, so that the route's own headers win.
  for (const name in result.headers) {
    if (!res.hasHeader(name)) res.setHeader(name, result.headers[name]!);
  }
  next();
}

/**
 * Ends visitor access for this session at once: the "final step" of a visitor's journey.
 *
 * @example
 * ```ts
 * app.post("/reference", onlyReferees, async (req, res) => {
 *   await saveReference(req.visitor!, req.body.text);
 *   clearVisitor(req); // this session loses its access at once
 *   res.redirect(303, "/thanks");
 * });
 * ```
 */
export function clearVisitor(req: Request): void {
  const state = stateOf(req, "clearVisitor()");
  const session = sessionPort(req);
  if (session) state.flow.clear(session, req.visitor);
  setVisitor(req, null);
}
