/**
 * How the Express adapter adds properties to Express's requests and responses, tuned for V8: the
 * one place where the adapter works around how the engine stores objects (its gain is measured
 * in bench/README.md, "Requests and responses kept as dictionaries").
 *
 * Express gives every request and response its app's prototype (`Object.setPrototypeOf`), after
 * which V8 before 13 (Node 20 and 22) gives each of them a hidden class of its own. Each property
 * added later then copies that class, and every property read, by Express, express-session,
 * Node's HTTP code and the app alike, misses its inline cache. An object whose properties V8
 * keeps in a dictionary instead (what it does once a property other than the last one added is
 * deleted) is read and extended through a hash lookup, much cheaper there. Both functions below
 * end with the same own properties, values and key order as plain assignments would: nothing a
 * program can observe changes, only how the engine stores the object.
 */
import type { Request, Response } from "express";

/**
 * Whether the engine gives each object whose prototype was set a hidden class of its own: V8
 * before 13 (Node 20 and 22) does. V8 13 (Node 24) shares them, and adds and reads are cheap
 * there as they are: a dictionary would only make reads slower (bench/README.md), so these
 * functions then do plain assignments.
 */
const OWN_HIDDEN_CLASSES = Number(process.versions.v8?.split(".")[0]) < 13;

/**
 * Sets `req[key] = state`, `req.visitor` and `req.isVisitor` on a request that has none of them
 * yet, leaving its properties in a dictionary where that pays (the key is deleted while not the
 * last one added, and set again).
 */
export function addRequestState(
  req: Request,
  key: symbol,
  state: unknown,
  visitor: Request["visitor"],
): void {
  const request = req as unknown as Record<symbol, unknown>;
  request[key] = state;
  req.visitor = visitor;
  if (OWN_HIDDEN_CLASSES) {
    delete request[key];
    request[key] = state;
  }
  req.isVisitor = visitor !== null;
}

type WriteHead = Response["writeHead"];

/**
 * Sets the response's own `writeHead` to `replacement`. When it already has one of its own (as
 * express-session's header hook gives it) and that pays, that one is deleted first: a property
 * other than the last one added, which leaves the response's properties in a dictionary for the
 * rest of it.
 */
export function replaceWriteHead(res: Response, replacement: WriteHead): void {
  // Not `delete`: a property that cannot be deleted must not throw here (it is then assigned).
  if (OWN_HIDDEN_CLASSES && Object.hasOwn(res, "writeHead"))
    Reflect.deleteProperty(res, "writeHead");
  res.writeHead = replacement;
}
