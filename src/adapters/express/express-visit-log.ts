import type { Response } from "express";
import type { PendingVisit } from "../../core/flow.js";
import type { OwedVisits, RequestState, WriteHead } from "./express-request-state.js";

/**
 * Records a guarded visit with the response's final status code, as its headers go out (so a
 * response cut off before its end is logged too). This is what `on-headers` does, without what
 * costs it about 4 µs a logged request: the normalisation of `writeHead`'s arguments into
 * `setHeader` calls, which a status code does not need. The response's own `writeHead` (itself
 * perhaps wrapped by express-session) runs right after, unchanged.
 *
 * What the response owes is kept on the request's state, which has room for it: adding a
 * property to a response object was the costliest step of a logged request (bench/README.md).
 * The response only has its `writeHead` replaced.
 */
export function recordWithStatus(res: Response, state: RequestState, visit: PendingVisit): void {
  if (state.owed) {
    // A second logging guard on the same request: one row each, as they were both passed.
    state.owed.visits.push({ state, visit });
    return;
  }
  const owed: OwedVisits = { writeHead: res.writeHead as WriteHead, visits: [{ state, visit }] };
  state.owed = owed;
  (res as { writeHead: WriteHead }).writeHead = function (this: Response, ...args: unknown[]) {
    return recordOwed(this, owed, args);
  };
}

/** Records the visits `owed` (once), then writes the head with the response's `writeHead` before. */
function recordOwed(res: Response, owed: OwedVisits, args: unknown[]): unknown {
  if (owed.visits.length > 0) {
    // `writeHead(status, …)` sets the status it is given; otherwise it sends `res.statusCode`.
    const status = typeof args[0] === "number" ? args[0] : res.statusCode;
    for (const { state, visit } of owed.visits) {
      state.flow.recordVisit(visit.visitor, visit.visit, state.session, status);
    }
    owed.visits = [];
  }
  return owed.writeHead.apply(res, args);
}
