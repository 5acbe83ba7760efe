import type { NextFunction, Request, RequestHandler, Response } from "express";
import onHeaders from "on-headers";
import { MalformedVisitorToken, VisitorPassError } from "../../core/errors.js";
import type { GuardOptions, VisitorFlow, VisitRequest } from "../../core/flow.js";
import { createGuard } from "../../core/flow.js";
import type { Visitor } from "../../core/visitor.js";
import { flowOf, type VisitorPass } from "../../core/visitor-pass.js";
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
  /** Admitted by a token on this very request (as opposed to restored from the session). */
  admitted: boolean;
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

function visitRequest(req: Request): VisitRequest {
  return {
    method: req.method,
    url: req.originalUrl,
    userAgent: req.get("user-agent") ?? null,
    referer: req.get("referer") ?? null,
    ip: req.ip ?? null,
  };
}

/**
 * Recognises a token on the query string: sets `req.visitor` and `req.isVisitor`. No token: nothing
 * happens; an unknown, inactive or expired one: the request goes on as anonymous; a malformed one:
 * 400 "Malformed visitor token.".
 */
export function visitorRequest(passes: VisitorPass): RequestHandler {
  const flow = flowOf(passes, "visitorRequest()");
  return async (req, res, next) => {
    req.visitor = null;
    req.isVisitor = false;
    const state: RequestState = { flow, admitted: false };
    (req as StatefulRequest)[STATE] = state;
    let token: string | null;
    try {
      token = flow.tokenFrom(req.originalUrl);
    } catch (error) {
      if (!(error instanceof MalformedVisitorToken)) return next(error);
      res.status(error.status).type("text/plain").send(error.message);
      return;
    }
    if (token === null) return next();
    try {
      const visitor = await flow.admit(token, sessionPort(req));
      if (visitor) {
        req.visitor = visitor;
        req.isVisitor = true;
        state.admitted = true;
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * Stashes a newly admitted visitor in `req.session`, or restores one already stashed there.
 * Needs express-session (or a compatible session middleware) and `visitorRequest` before it.
 */
export function visitorSession(
  passes: VisitorPass,
  options: VisitorSessionOptions = {},
): RequestHandler {
  const flow = flowOf(passes, "visitorSession()");
  const isAuthenticated = options.isAuthenticated ?? defaultIsAuthenticated;
  return async (req, _res, next) => {
    try {
      const state = stateOf(req, "visitorSession()");
      if (state.flow !== flow)
        throw setupError("visitorSession() and visitorRequest() were given different passes.");
      const session = sessionPort(req);
      if (!session) {
        throw setupError(
          "visitorSession() needs req.session: mount express-session (or a compatible session middleware) before it.",
        );
      }
      if (state.admitted && req.visitor) {
        flow.stash(session, req.visitor, { authenticated: isAuthenticated(req) });
      } else if (!req.visitor) {
        req.visitor = await flow.restore(session);
        req.isVisitor = req.visitor !== null;
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
  const request = visitorRequest(passes);
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
 * `bypass(req)` lets through; otherwise passes `VisitorAccessDenied` (403) to `next`. Each admitted
 * visitor's visit is logged with the final status code unless `logVisit` is false.
 */
export function userIsVisitor(options: GuardOptions<Request>): RequestHandler {
  const guard = createGuard(options);
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const state = stateOf(req, "userIsVisitor()");
      const visitor = req.visitor;
      const decision = await guard.decide(req, visitor);
      if (!decision.allow) return next(decision.error);
      if (decision.log && visitor) {
        const visit = visitRequest(req);
        const session = sessionPort(req);
        onHeaders(res, () => state.flow.recordVisit(visitor, visit, session, res.statusCode));
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

function defaultIsAuthenticated(req: Request): boolean {
  return (req as Request & { user?: unknown }).user != null;
}
