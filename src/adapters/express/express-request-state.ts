import { IncomingMessage } from "node:http";
import type { Request } from "express";
import { VisitorPassError, type VisitorPassUnavailable } from "../../core/errors.js";
import type { PendingVisit, Recognition, VisitorFlow } from "../../core/flow.js";
import type { Visitor } from "../../core/visitor.js";

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
  /** What `req.visitor` answers. */
  visitor: Visitor | null;
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
const ACCESSORS = Symbol("visitor-pass.accessors");

type StatefulRequest = Request & { [STATE]?: RequestState };
type RequestPrototype = { [ACCESSORS]?: boolean } & object;

export function setupError(message: string): VisitorPassError {
  return new VisitorPassError(message, "VISITOR_PASS_SETUP");
}

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
 * kept before); `req.visitor` and `req.isVisitor` answer from it.
 */
export function keepState(req: Request, state: RequestState): void {
  const request = req as StatefulRequest;
  state.owed = request[STATE]?.owed ?? null;
  request[STATE] = state;
  if (!hasAccessors(req)) showVisitor(req, state.visitor);
}

/** Sets what `req.visitor` and `req.isVisitor` answer. */
export function setVisitor(req: Request, state: RequestState, visitor: Visitor | null): void {
  state.visitor = visitor;
  if (!hasAccessors(req)) showVisitor(req, visitor);
}

function showVisitor(req: Request, visitor: Visitor | null): void {
  req.visitor = visitor;
  req.isVisitor = visitor !== null;
}

/**
 * `req.visitor` and `req.isVisitor` as accessors reading the request's state, on Express's base
 * request prototype (where Express itself defines `req.ip` and `req.path`, shared by every app
 * and sub-app). Adding a property to a request object is one of the costliest steps of a
 * middleware; this way a request costs one (its state) instead of three. A request that is not
 * Express's gets plain properties instead: nothing outside Express is touched.
 */
function hasAccessors(req: Request): boolean {
  const proto = Object.getPrototypeOf(req) as RequestPrototype | null;
  if (!proto) return false;
  if (proto[ACCESSORS]) return true;
  const base = expressBase(proto);
  if (!base) return false;
  Object.defineProperties(base, {
    visitor: {
      configurable: true,
      get(this: StatefulRequest): Visitor | null {
        return this[STATE]?.visitor ?? null;
      },
      set(this: StatefulRequest, visitor: Visitor | null) {
        const state = this[STATE];
        if (state) state.visitor = visitor;
        else shadow(this, "visitor", visitor);
      },
    },
    isVisitor: {
      configurable: true,
      get(this: StatefulRequest): boolean {
        return this.visitor != null;
      },
      set(this: StatefulRequest, value: boolean) {
        shadow(this, "isVisitor", value);
      },
    },
    [ACCESSORS]: { value: true },
  });
  return true;
}

/** The prototype right above Node's `IncomingMessage` in the chain: Express's own `req`. */
function expressBase(proto: object): object | null {
  let current: object | null = proto;
  while (current && current !== IncomingMessage.prototype) {
    const parent = Object.getPrototypeOf(current) as object | null;
    if (parent === IncomingMessage.prototype) return current;
    current = parent;
  }
  return null;
}

/** An own property hiding the accessor, for an app that sets it itself. */
function shadow(req: Request, key: "visitor" | "isVisitor", value: unknown): void {
  Object.defineProperty(req, key, { value, writable: true, enumerable: true, configurable: true });
}
