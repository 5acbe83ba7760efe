/**
 * How the Express adapter adds properties to Express's requests and responses, tuned for V8: the
 * one place where the adapter works around how the engine stores objects (its gain is measured
 * in bench/README.md, "Requests and responses kept as dictionaries").
 *
 * Express gives every request and response its app's prototype (`Object.setPrototypeOf`), after
 * which V8 gives each of them a hidden class of its own. Each property added later then copies
 * that class, and every property read, by Express, express-session, Node's
 * HTTP code and the app alike, misses its inline cache. An object whose properties V8 keeps in a
 * dictionary instead (what it does once a property other than the last one added is deleted) is
 * read and extended through a hash lookup, much cheaper here. Both functions below end with the
 * same own properties, values and key order as plain assignments would: nothing a program can
 * observe changes, only how the engine stores the object.
 */
import type { Request, Response } from "express";

/**
 * Sets `req[key] = state`, `req.visitor` and `req.isVisitor` on a request that has none of them
 * yet, leaving its properties in a dictionary (the key is deleted while not the last one added,
 * and set again).
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
  delete request[key];
  request[key] = state;
  req.isVisitor = visitor !== null;
}

type WriteHead = Response["writeHead"];

/**
 * Sets the response's own `writeHead` to `replacement`. When it already has one of its own (as
 * express-session's header hook gives it), that one is deleted first: a property other than the
 * last one added, which leaves the response's properties in a dictionary for the rest of it.
 */
export function replaceWriteHead(res: Response, replacement: WriteHead): void {
  // Not `delete`: a property that cannot be deleted must not throw here (it is then assigned).
  if (Object.hasOwn(res, "writeHead")) Reflect.deleteProperty(res, "writeHead");
  res.writeHead = replacement;
}
