import type { Response } from "express";
import type { PendingVisit } from "../../core/flow.js";
import { keptState, type RequestState, type WriteHead } from "./express-request-state.js";

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
  if (state.owed) state.owed.push(visit);
  else state.owed = [visit];
  if (wrapped(state)) return;
  state.writeHead = res.writeHead as WriteHead;
  (res as { writeHead: WriteHead }).writeHead = function (this: Response, ...args: unknown[]) {
    return recordOwed(this, newest(this, state), args);
  };
}

/** Whether this request's response already records its visits (a guard before wrapped it). */
function wrapped(state: RequestState): boolean {
  for (let kept: RequestState | null = state; kept; kept = kept.previous) {
    if (kept.writeHead) return true;
  }
  return false;
}

/**
 * The latest state kept on the response's request, whose chain holds `state`: a visitor-pass
 * middleware that ran again after the guard kept a newer one, whose guards' visits are owed too.
 * `state` itself when `res.req` is not that request any more.
 */
function newest(res: Response, state: RequestState): RequestState {
  const latest = res.req ? keptState(res.req) : undefined;
  for (let kept = latest; kept; kept = kept.previous ?? undefined) {
    if (kept === state) return latest!;
  }
  return state;
}

/**
 * Records the visits of `state` and of the states kept before it on the same request (once),
 * then writes the head with the `writeHead` the response had before.
 */
function recordOwed(res: Response, state: RequestState, args: unknown[]): unknown {
  // `writeHead(status, …)` sets the status it is given; otherwise it sends `res.statusCode`.
  const status = typeof args[0] === "number" ? args[0] : res.statusCode;
  let writeHead: WriteHead | null = null;
  for (let kept: RequestState | null = state; kept; kept = kept.previous) {
    const owed = kept.owed;
    if (owed) {
      kept.owed = null;
      for (const { visitor, visit } of owed) {
        kept.flow.recordVisit(visitor, visit, kept.session, status);
      }
    }
    writeHead ??= kept.writeHead;
  }
  return writeHead!.apply(res, args);
}
