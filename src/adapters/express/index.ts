import type { NextFunction, Request, RequestHandler, Response } from "express";
import onHeaders from "on-headers";
import { VisitorPassError, type VisitorPassUnavailable } from "../../core/errors.js";
import type {
  GuardOptions,
  Recognition,
  SessionPort,
  VisitorFlow,
  VisitRequest,
} from "../../core/flow.js";
import { answerOf, createGuard } from "../../core/flow.js";
import { stripToken } from "../../core/tokens.js";
import type { Visitor } from "../../core/visitor.js";
import { flowOf, type VisitorPass } from "../../core/visitor-pass.js";
import { sendPage } from "./express-response.js";
import { sessionPort } from "./express-session-port.js";

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
export { type ExpressAdminOptions, visitorAdmin } from "./express-admin.js";
export { selfService } from "./express-self-service.js";

export interface VisitorSessionOptions {
  /**
   * Whether a user is signed in; a visitor's session cookie lifetime only applies when not.
   * @default (req) => req.user != null
   */
  isAuthenticated?: (req: Request) => boolean;
}

export type VisitorPassMiddlewareOptions = VisitorSessionOptions;

interface RequestState {
  flow: VisitorFlow;
  /** The request as the core sees it, read once (with its token: the core strips it). */
  visit: VisitRequest;
  session: SessionPort | null;
  recognition: Recognition;
  /** The store failed while this request was looked at: guarded routes answer 503. */
  unavailable: VisitorPassUnavailable | null;
}

const STATE = Symbol("visitor-pass.request");
type StatefulRequest = Request & { [STATE]?: RequestState };

function setupError(message: string): VisitorPassError {
  return new VisitorPassError(message, "VISITOR_PASS_SETUP");
}

function stateOf(req: Request, caller: string): RequestState {
  const state = (req as StatefulRequest)[STATE];
  if (!state) {
    throw setupError(
      `${caller} must come after visitorRequest(passes) (or visitorPass(passes)) in the middleware chain.`,
    );
  }
  return state;
}

/**
 * The request as the core sees it. Headers and the client address are read only when the core
 * asks (most requests never need the address: it is for visit logs).
 */
function visitRequest(req: Request): VisitRequest {
  return {
    method: req.method,
    url: req.originalUrl,
    get userAgent() {
      return req.get("user-agent") ?? null;
    },
    get referer() {
      return req.get("referer") ?? null;
    },
    get ip() {
      return req.ip ?? null;
    },
    get origin() {
      return req.get("origin") ?? null;
    },
    get secFetchSite() {
      return req.get("sec-fetch-site") ?? null;
    },
    get host() {
      return req.get("host") ?? null;
    },
  };
}

/**
 * Recognises a token on the query string: sets `req.visitor` and `req.isVisitor`. No token: nothing
 * happens; an unknown, inactive or expired one: the request goes on as anonymous; a malformed one:
 * 400 "Malformed visitor token.". The token is then removed from `req.url` and `req.originalUrl`,
 * so the app's own request logs never show it.
 */
export function visitorRequest(
  passes: VisitorPass,
  options: VisitorSessionOptions = {},
): RequestHandler {
  const flow = flowOf(passes, "visitorRequest()");
  const isAuthenticated = options.isAuthenticated ?? defaultIsAuthenticated;
  return async (req, res, next) => {
    req.visitor = null;
    req.isVisitor = false;
    try {
      const visit = visitRequest(req);
      const session = sessionPort(req);
      const recognition = await flow.recognise(visit, session, {
        authenticated: isAuthenticated(req),
      });
      const unavailable = recognition.kind === "unavailable" ? recognition.error : null;
      (req as StatefulRequest)[STATE] = { flow, visit, session, recognition, unavailable };
      const answer = answerOf(recognition);
      if (answer) {
        sendPage(res, answer);
        return;
      }
      if (recognition.kind !== "none") hideToken(req, flow);
      if (recognition.kind === "admitted") {
        req.visitor = recognition.visitor;
        req.isVisitor = true;
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * Stashes a newly admitted visitor in `req.session` (with a new session id, then a redirect off
 * the token's URL on a GET), or restores one already stashed there. Needs express-session (or a
 * compatible session middleware) and `visitorRequest` before it.
 */
export function visitorSession(
  passes: VisitorPass,
  options: VisitorSessionOptions = {},
): RequestHandler {
  const flow = flowOf(passes, "visitorSession()");
  const isAuthenticated = options.isAuthenticated ?? defaultIsAuthenticated;
  return async (req, res, next) => {
    try {
      const state = stateOf(req, "visitorSession()");
      if (state.flow !== flow) {
        throw setupError("visitorSession() and visitorRequest() were given different passes.");
      }
      const session = state.session ?? sessionPort(req);
      if (!session) {
        throw setupError(
          "visitorSession() needs req.session: mount express-session (or a compatible session middleware) before it.",
        );
      }
      const settlement = await flow.settle(state.visit, session, state.recognition, {
        authenticated: isAuthenticated(req),
      });
      state.unavailable = settlement.unavailable;
      req.visitor = settlement.visitor;
      req.isVisitor = settlement.visitor !== null;
      if (settlement.redirectTo !== null) {
        res.set(settlement.redirectHeaders ?? {});
        res.redirect(settlement.redirectStatus ?? 302, settlement.redirectTo);
        return;
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** `visitorRequest` and `visitorSession` in one middleware. */
export function visitorPass(
  passes: VisitorPass,
  options: VisitorPassMiddlewareOptions = {},
): RequestHandler {
  const request = visitorRequest(passes, options);
  const session = visitorSession(passes, options);
  return (req, res, next) => {
    request(req, res, (error?: unknown) => {
      if (error !== undefined) return next(error);
      session(req, res, next);
    });
  };
}

/**
 * Guards a route: admits visitors whose pass has `scope` (any scope with `SCOPE_ANY`), or anyone
 * `bypass(req)` lets through; otherwise passes `VisitorAccessDenied` (403) to `next`, or
 * `VisitorPassUnavailable` (503) while the store is failing. Each admitted visitor's visit is
 * logged with the final status code unless `logVisit` is false.
 */
export function userIsVisitor(options: GuardOptions<Request>): RequestHandler {
  const guard = createGuard(options);
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const state = stateOf(req, "userIsVisitor()");
      const visitor = req.visitor;
      const outcome = await state.flow.guardRequest(guard, req, visitor, state);
      if (outcome.kind === "redirect") return res.redirect(outcome.status, outcome.location);
      if (outcome.kind === "deny") return next(outcome.error);
      const { log } = outcome;
      if (log) {
        const session = state.session;
        onHeaders(res, () =>
          state.flow.recordVisit(log.visitor, log.visit, session, res.statusCode),
        );
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** Ends visitor access for this session at once: the "final step" of a visitor's journey. */
export function clearVisitor(req: Request): void {
  const state = stateOf(req, "clearVisitor()");
  const session = sessionPort(req);
  if (session) state.flow.clear(session);
  req.visitor = null;
  req.isVisitor = false;
}

function hideToken(req: Request, flow: VisitorFlow): void {
  req.url = stripToken(req.url, flow.config.querystringKey);
  req.originalUrl = stripToken(req.originalUrl, flow.config.querystringKey);
}

function defaultIsAuthenticated(req: Request): boolean {
  return (req as Request & { user?: unknown }).user != null;
}
