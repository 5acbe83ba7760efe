/**
 * The Express adapter: middleware for the session, the guard, the self-service and admin pages.
 *
 * @module visitor-pass/express
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type {
  GuardOptions,
  GuardOutcome,
  MaybePromise,
  Recognition,
  Settlement,
  VisitorFlow,
} from "../../core/flow.js";
import { answerOf, createGuard } from "../../core/flow.js";
import { isOriginForm, stripToken } from "../../core/tokens.js";
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

export type { GuardOptions } from "../../core/flow.js";
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
  const isAuthenticated = options.isAuthenticated ?? defaultIsAuthenticated;
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
  const isAuthenticated = options.isAuthenticated ?? defaultIsAuthenticated;
  return (req, res, next) => recognise(flow, isAuthenticated, true, req, res, next);
}

/*
 * The middleware bodies. Each goes on synchronously when the core had nothing to wait for (no
 * token, a pass the cache holds): most requests then cost no promise and no closure.
 */

/**
 * The first half: reads the request once, asks the core what its token comes to, and answers at
 * once when the core says so (a malformed token, a confirmation page); then goes on to the
 * second half (`andSettle`, for `visitorPass`) or to the next middleware.
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
  let visit: ExpressVisit;
  let recognition: MaybePromise<Recognition>;
  try {
    visit = new ExpressVisit(req, isAuthenticated);
    // A target that is not a path (`OPTIONS *`, an absolute URL) that got no session is anonymous:
    // its token, if any, is not looked at (see `settle`).
    const session = sessionPort(req);
    recognition =
      session || isOriginForm(visit.url) ? flow.recognise(visit, session, visit) : NOT_YET;
    state = {
      flow,
      url: visit.url,
      isAuthenticated,
      recognition: NOT_YET,
      unavailable: null,
      owed: null,
    };
  } catch (error) {
    next(error);
    return;
  }
  if (recognition instanceof Promise) {
    recognition.then(
      (recognised) => afterRecognition(state, visit, recognised, andSettle, req, res, next),
      next,
    );
  } else {
    afterRecognition(state, visit, recognition, andSettle, req, res, next);
  }
}

/** What the state holds until the recognition it is created for is known. */
const NOT_YET: Recognition = Object.freeze({ kind: "none" });

function afterRecognition(
  state: RequestState,
  visit: ExpressVisit,
  recognition: Recognition,
  andSettle: boolean,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  state.recognition = recognition;
  state.unavailable = recognition.kind === "unavailable" ? recognition.error : null;
  keepState(req, state, recognition.kind === "admitted" ? recognition.visitor : null);
  const answer = answerOf(recognition);
  if (answer) {
    sendPage(res, answer);
    return;
  }
  if (recognition.kind !== "none") hideToken(req, state.flow);
  if (andSettle) settle(state.flow, undefined, req, res, next, visit);
  else next();
}

/**
 * The second half: the session consulted, `req.visitor` set, or the landing's redirect sent.
 * `recognised` is the request as the first half saw it, when it runs right after it.
 */
function settle(
  flow: VisitorFlow,
  isAuthenticated: ((req: Request) => boolean) | undefined,
  req: Request,
  res: Response,
  next: NextFunction,
  recognised?: ExpressVisit,
): void {
  let state: RequestState;
  let settlement: MaybePromise<Settlement>;
  try {
    state = stateOf(req, "visitorSession()");
    if (state.flow !== flow) {
      throw setupError("visitorSession() and visitorRequest() were given different passes.");
    }
    const session = sessionPort(req);
    if (!session && !isOriginForm(state.url)) {
      // Session middlewares pass such targets by (their cookie path does not match): anonymous.
      setVisitor(req, null);
      next();
      return;
    }
    if (!session) {
      throw setupError(
        "visitorSession() needs req.session: mount express-session (or a compatible session middleware) before it.",
      );
    }
    const visit = recognised ?? new ExpressVisit(req, state.isAuthenticated, state.url);
    const context = isAuthenticated ? new ExpressVisit(req, isAuthenticated) : visit;
    settlement = flow.settle(visit, session, state.recognition, context);
  } catch (error) {
    next(error);
    return;
  }
  if (settlement instanceof Promise) {
    settlement.then((settled) => afterSettlement(state, settled, req, res, next), next);
  } else {
    afterSettlement(state, settlement, req, res, next);
  }
}

function afterSettlement(
  state: RequestState,
  settlement: Settlement,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  state.unavailable = settlement.unavailable;
  setVisitor(req, settlement.visitor);
  if (settlement.redirectTo === null) {
    next();
    return;
  }
  res.set(settlement.redirectHeaders ?? {});
  res.redirect(settlement.redirectStatus ?? 302, settlement.redirectTo);
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
    let outcome: MaybePromise<GuardOutcome>;
    try {
      state = stateOf(req, "userIsVisitor()");
      const visitor = req.visitor ?? null;
      // The guard decides on what the app may have set itself; `req.isVisitor` follows it.
      req.isVisitor = visitor !== null;
      outcome = state.flow.guardRequest(guard, req, visitor, {
        visit: new ExpressVisit(req, state.isAuthenticated, state.url),
        session: sessionPort(req),
        unavailable: state.unavailable,
      });
    } catch (error) {
      return next(error);
    }
    if (outcome instanceof Promise) {
      outcome.then((decided) => afterGuard(state, decided, res, next), next);
    } else {
      afterGuard(state, outcome, res, next);
    }
  };
}

function afterGuard(
  state: RequestState,
  outcome: GuardOutcome,
  res: Response,
  next: NextFunction,
): void {
  if (outcome.kind === "redirect") {
    res.redirect(outcome.status, outcome.location);
    return;
  }
  if (outcome.kind === "deny") {
    // Set here too, for an app error handler that renders the error its own way.
    if (outcome.error.headers) res.set(outcome.error.headers);
    next(outcome.error);
    return;
  }
  if (outcome.log) recordWithStatus(res, state, outcome.log);
  // Set before the route runs, so that the route's own headers win.
  for (const name in outcome.headers) {
    if (!res.hasHeader(name)) res.setHeader(name, outcome.headers[name]!);
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

function hideToken(req: Request, flow: VisitorFlow): void {
  req.url = stripToken(req.url, flow.config.querystringKey);
  req.originalUrl = stripToken(req.originalUrl, flow.config.querystringKey);
}

function defaultIsAuthenticated(req: Request): boolean {
  return (req as Request & { user?: unknown }).user != null;
}
