import type { Response } from "express";
import type { PendingVisit } from "../../core/flow.js";
import type { RequestState } from "./express-request-state.js";

type WriteHead = (this: Response, ...args: unknown[]) => unknown;

/** What a response owes the visit log: its guarded visits, and the `writeHead` it had before. */
interface Owed {
  writeHead: WriteHead;
  visits: { state: RequestState; visit: PendingVisit }[];
}

const OWED = Symbol("visitor-pass.visits");

type OwingResponse = Response & { [OWED]?: Owed };

/**
 * Records a guarded visit with the response's final status code, as its headers go out (so a
 * response cut off before its end is logged too). This is what `on-headers` does, without what
 * costs it about 4 µs a logged request: a closure per response, and the normalisation of `writeHead`'s
 * arguments into `setHeader` calls, which a status code does not need. The response's own
 * `writeHead` (itself perhaps wrapped by express-session) runs right after, unchanged.
 */
export function recordWithStatus(res: Response, state: RequestState, visit: PendingVisit): void {
  const response = res as OwingResponse;
  const owed = response[OWED];
  if (owed) {
    // A second logging guard on the same request: one row each, as they were both passed.
    owed.visits.push({ state, visit });
    return;
  }
  response[OWED] = { writeHead: res.writeHead as WriteHead, visits: [{ state, visit }] };
  (res as { writeHead: WriteHead }).writeHead = writeHeadRecording;
}

/** `res.writeHead`, recording the response's visits first (once). */
function writeHeadRecording(this: OwingResponse, ...args: unknown[]): unknown {
  const owed = this[OWED]!;
  if (owed.visits.length > 0) {
    // `writeHead(status, …)` sets the status it is given; otherwise it sends `res.statusCode`.
    const status = typeof args[0] === "number" ? args[0] : this.statusCode;
    for (const { state, visit } of owed.visits) {
      state.flow.recordVisit(visit.visitor, visit.visit, state.session, status);
    }
    owed.visits = [];
  }
  return owed.writeHead.apply(this, args);
}
