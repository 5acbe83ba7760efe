import type { Response } from "express";
import type { PendingVisit } from "../../core/request-flow.js";
import { replaceWriteHead } from "./express-object-shape.js";
import type { OwedVisit, RequestState } from "./express-request-state.js";

/**
 * Records a guarded visit with the response's final status code, as its headers go out (so a
 * response cut off before its end is logged too). This is what `on-headers` does, without what
 * costs it about 4 µs a logged request: the normalisation of `writeHead`'s arguments into
 * `setHeader` calls, which a status code does not need. The response's own `writeHead` (itself
 * perhaps wrapped by express-session) runs right after, unchanged.
 *
 * The visits owed are kept on the request's state, which has room for them: adding a property
 * to a response object was the costliest step of a logged request (bench/README.md). The
 * response only has its `writeHead` replaced, by a closure holding the one before (through
 * `replaceWriteHead`, which leaves the response's properties in a dictionary: see
 * `express-object-shape.ts`).
 */
export function recordWithStatus(res: Response, state: RequestState, visit: PendingVisit): void {
  if (state.owed) {
    // A second logging guard on the same request: one row each, as they were both passed.
    state.owed.push({ flow: state.flow, visit });
    return;
  }
  // What is owed stays apart from the response's `writeHead` before (itself perhaps a closure
  // over the request): the state, hung on the request, must not lead back to it.
  const owed: OwedVisit[] = [{ flow: state.flow, visit }];
  state.owed = owed;
  const writeHead = res.writeHead as WriteHead;
  replaceWriteHead(res, function (this: Response, status?: unknown) {
    // `arguments` handed on as they came: no array made for them.
    recordOwed(this, owed, status);
    // biome-ignore lint/complexity/noArguments: forwarded whole, whatever their number.
    return writeHead.apply(this, arguments as unknown as unknown[]);
  } as Response["writeHead"]);
}

type WriteHead = (this: Response, ...args: unknown[]) => unknown;

/** Records the visits `owed` (once), as `writeHead(status, …)` is called. */
function recordOwed(res: Response, owed: OwedVisit[], status: unknown): void {
  if (owed.length === 0) return;
  // `writeHead(status, …)` sets the status it is given; otherwise it sends `res.statusCode`.
  const final = typeof status === "number" ? status : res.statusCode;
  for (const { flow, visit } of owed.splice(0)) flow.recordPending(visit, final);
}
