import type { Request } from "express";
import { setupError, type VisitorPassUnavailable } from "../../core/errors.js";
import type { PendingVisit, Recognition, VisitorFlow } from "../../core/request-flow.js";
import type { Visitor } from "../../core/visitor.js";
import { addRequestState } from "./express-object-shape.js";

/**
 * What the middleware learnt of a request, for the guards and handlers after it. It holds nothing
 * that leads back to the request or the response: hung on a request, such an object makes V8's
 * scavenger keep and copy much of every request's objects (bench/README.md, "Garbage
 * collection"). The request as the core sees it (`ExpressVisit`) and the session port are made
 * afresh where they are needed.
 */
export interface RequestState {
  flow: VisitorFlow;
  /** The URL as requested, with its token (`ExpressVisit#url`; the core strips it). */
  url: string;
  /** Whether a user is signed in, as the middleware was told to decide it. */
  isAuthenticated: (req: Request) => boolean;
  recognition: Recognition;
  /** The store failed while this request was looked at: guarded routes answer 503. */
  unavailable: VisitorPassUnavailable | null;
  /**
   * What the response owes the visit log, once a guard logged a visit (null before): shared by
   * every state kept on the same request, should visitor-pass run again after a guard.
   */
  owed: OwedVisit[] | null;
}

/** A guarded visit to record as the response's headers go out, and who records it. */
export interface OwedVisit {
  flow: VisitorFlow;
  visit: PendingVisit;
}

const STATE = Symbol("visitor-pass.request");

type StatefulRequest = Request & { [STATE]?: RequestState };

export { setupError };

/** The request's state, or a setup error naming `caller` when no visitor-pass middleware ran. */
export function stateOf(req: Request, caller: string): RequestState {
  const state = (req as StatefulRequest)[STATE];
  if (!state) {
    throw setupError(
      `${caller} must come after visitorRequest(passes) (or visitorPass(passes)) in the middleware chain.`,
    );
  }
  return state;
}

/**
 * Keeps `state` on the request (taking over what the response owes the visit log from a state
 * kept before), and sets `req.visitor` and `req.isVisitor`: the first time through
 * `addRequestState`, which leaves the request's properties in a dictionary (see
 * `express-object-shape.ts`).
 */
export function keepState(req: Request, state: RequestState, visitor: Visitor | null): void {
  const request = req as StatefulRequest;
  const before = request[STATE];
  if (before === undefined) {
    addRequestState(req, STATE, state, visitor);
    return;
  }
  state.owed = before.owed;
  request[STATE] = state;
  setVisitor(req, visitor);
}

/**
 * Sets what `req.visitor` and `req.isVisitor` answer, as the request's own properties. Not as
 * accessors on a prototype: Express's base request prototype is shared by every Express app in
 * the process, and an app's own (`app.request`) is swapped for a sub-app's while the request is
 * inside it, so the visitor would vanish there.
 */
export function setVisitor(req: Request, visitor: Visitor | null): void {
  req.visitor = visitor;
  req.isVisitor = visitor !== null;
}
