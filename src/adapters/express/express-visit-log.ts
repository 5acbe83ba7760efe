import { ServerResponse } from "node:http";
import type { Response } from "express";
import type { PendingVisit } from "../../core/flow.js";
import { type RequestState, stateOfResponse } from "./express-request-state.js";

type WriteHead = (this: Response, ...args: unknown[]) => unknown;

/**
 * Records a guarded visit with the response's final status code, as its headers go out (so a
 * response cut off before its end is logged too). This is what `on-headers` does, without what
 * costs it about 3 µs a request: a closure per response, and the normalisation of `writeHead`'s
 * arguments into `setHeader` calls, which a status code does not need. The response's own
 * `writeHead` (itself perhaps wrapped by express-session) runs right after, unchanged.
 */
export function recordWithStatus(res: Response, state: RequestState, visit: PendingVisit): void {
  if (state.pending) {
    // A second logging guard on the same request: one row each, as they were both passed.
    state.pending.push(visit);
    return;
  }
  state.pending = [visit];
  state.writeHead = res.writeHead as WriteHead;
  (res as { writeHead: WriteHead }).writeHead = writeHeadRecording;
}

/** `res.writeHead`, recording the request's pending visits first (once). */
function writeHeadRecording(this: Response, ...args: unknown[]): unknown {
  const state = stateOfResponse(this);
  // Never without a state (it is what hooked this response); Node's own as a last resort.
  if (!state) return (ServerResponse.prototype.writeHead as WriteHead).apply(this, args);
  const { pending, writeHead } = state;
  if (pending) {
    state.pending = null;
    // `writeHead(status, …)` sets the status it is given; otherwise it sends `res.statusCode`.
    const status = typeof args[0] === "number" ? args[0] : this.statusCode;
    for (const { visitor, visit } of pending) {
      state.flow.recordVisit(visitor, visit, state.session, status);
    }
  }
  return (writeHead as WriteHead).apply(this, args);
}
