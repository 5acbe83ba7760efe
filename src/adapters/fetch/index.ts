/**
 * The request flow on Web-standard `Request` and `Response`: for any framework or runtime that
 * speaks them, and the base from which an adapter for another framework is one small file.
 *
 * @module visitor-pass/fetch
 */
import { setupError, type VisitorPassHttpError } from "../../core/errors.js";
import { type GuardOptions, guardOf } from "../../core/guard.js";
import type { SessionPort } from "../../core/ports.js";
import type { Visitor } from "../../core/visitor.js";
import type { VisitorPass } from "../../core/visitor-pass.js";
import { fetchEntry } from "./fetch-entry.js";

export {
  MalformedVisitorToken,
  VisitorAccessDenied,
  VisitorPassHttpError,
  VisitorPassThrottled,
  VisitorPassUnavailable,
  VisitorPassUriTooLong,
} from "../../core/errors.js";
export { type GuardOptions, type MatchRequest, SCOPE_ANY } from "../../core/guard.js";
export type { SessionPort } from "../../core/ports.js";
export type { Visitor } from "../../core/visitor.js";
export type {
  Closable,
  CloseGracefullyOptions,
  CloseResult,
  HandleSignalsOptions,
} from "../../server/graceful-close.js";
export { closeGracefully, handleSignals } from "../../server/graceful-close.js";
export { type SelfServiceOptions, selfService } from "./self-service.js";

/**
 * Options of `visitorPassFetch`.
 *
 * @example
 * ```ts
 * // The visitor in an encrypted cookie of its own:
 * const vp = visitorPassFetch(passes, { secret: process.env.VISITOR_PASS_SECRET!, maxAge: 8 * 3600 });
 * // Or in a server-side session the app already has:
 * const withSession = visitorPassFetch(passes, { session: (request) => mySessionPort(request) });
 * ```
 */
export interface FetchVisitorPassOptions {
  /**
   * Keys the stash cookie, which is sealed with AES-256-GCM under a key derived from this with
   * HKDF-SHA256; at least 32 characters. Required unless `session` is given.
   */
  secret?: string;
  /**
   * Name of the stash cookie on http; on https it is `__Host-` and this name (a cookie token of
   * at most 200 characters).
   * @default "visitor_pass"
   */
  cookieName?: string;
  /**
   * Whether the stash cookie is for https only: named `__Host-<cookieName>`, with `Secure`,
   * `Path=/` and no `Domain`. Set `true` behind a proxy that ends TLS, where the request URL
   * says http.
   * @default whether the request URL is https
   */
  secure?: boolean;
  /**
   * The stash cookie's lifetime in seconds, the app's cookie policy: the cookie lives this long
   * for a pass with `sessionExpiry: null` and for a signed-in user. A pass with `sessionExpiry: 0`
   * gets a cookie that ends with the browser, which the server refuses after this long whatever
   * the browser keeps; a pass with a lifetime of its own gets that lifetime, enforced the same way.
   * @default 86400
   */
  maxAge?: number;
  /**
   * A server-side session instead of the cookie: return the core's `SessionPort` over your own
   * session for this request. Writing that session out (and its cookie) stays yours.
   * @default the encrypted cookie stash
   */
  session?: (request: Request) => SessionPort | Promise<SessionPort>;
  /**
   * Whether a user is signed in; a visitor's session cookie lifetime only applies when not.
   * @default () => false
   */
  isAuthenticated?: (request: Request) => boolean | Promise<boolean>;
}

/**
 * Options of one `handle()` call: the route's guard, and the client address.
 *
 * @example
 * ```ts
 * const onlyReferees = userIsVisitor({ scope: "REFERENCE_REQUEST" }); // checked once, reused
 * const result = await vp.handle(request, { guard: onlyReferees, clientAddress: socket.remoteAddress });
 * ```
 */
export interface HandleOptions {
  /**
   * Guard this request: admit visitors whose pass has `scope` (any with `SCOPE_ANY`), or anyone
   * `bypass(request)` lets through; refuse the others (403; 503 while the store fails), or with
   * `selfService` send them to the self-service form. Pass the same object on every request
   * (`userIsVisitor(options)` checks it at setup): the guard it describes is checked once and kept.
   * @default no guard: the visitor, if any, is recognised and nothing is refused
   */
  guard?: GuardOptions<Request> | undefined;
  /**
   * The client address, which a `Request` does not carry: what your server resolved (the socket's
   * address, or a trusted proxy's header). Logged with visits and used by self-service throttles.
   * @default null
   */
  clientAddress?: string | null | undefined;
  /**
   * This request's server-side session, for an adapter whose framework hands it over per request
   * (it overrides the `session` option).
   */
  session?: SessionPort | undefined;
  /** Whether a user is signed in, when the adapter knows it (it overrides `isAuthenticated`). */
  authenticated?: boolean | undefined;
  /**
   * The route's parameters, for the guard's `match` (`request.params.id`), as the router that
   * chose the route decoded them; only string values are kept.
   * @default none: `match` is given an empty `params`
   */
  params?: Readonly<Record<string, unknown>> | null;
  /**
   * The store failed for this request in an earlier step (`Continue#unavailable` of a proxy's
   * `handle`, carried to the page's): the guard refuses with 503, as it would have then.
   */
  unavailable?: boolean | undefined;
}

/**
 * The request ends here: send `response`. A token that is not a uuid (400), the confirmation
 * page, the landing's redirect off its token (302, or 303 after confirming), the self-service
 * redirect, or a guard's refusal. For a refusal `error` is the package's error, for an app that
 * renders its own page (keep `response`'s `Set-Cookie` and `Retry-After` headers if you do).
 */
export interface Respond {
  kind: "respond";
  response: Response;
  error?: VisitorPassHttpError;
}

/** The request goes on to the app, which answers it and hands its response to `finish`. */
export interface Continue {
  kind: "continue";
  /**
   * The visitor admitted by a token on this request or restored from the session, or null. A
   * later `guard` decides on it as it then is (an adapter may set the one its app chose).
   */
  visitor: Visitor | null;
  /** The request as the app should see it: without the token, which must not reach its logs. */
  request: Request;
  /**
   * The store failed while the request was looked at (a pass could not be checked): a guard on
   * it refuses with 503. For an adapter that guards in a later step, to pass on as `handle`'s
   * `unavailable`.
   */
  unavailable: boolean;
  /**
   * Guards the request further on, where the framework's guard sits on a route rather than in
   * `handle`: `null` when `options` admit it (its visit is logged by `finish`), else the answer
   * to send instead of the route's. `bypass` is given `bypassArgument` (the framework's own
   * request or context), and `match` the route's `params`, where the framework has them.
   */
  guard<T = Request>(
    options: GuardOptions<T>,
    bypassArgument: T,
    params?: Readonly<Record<string, unknown>> | null,
  ): Promise<Respond | null>;
  /**
   * The app's response, completed: the stash's `Set-Cookie`, the guard's headers (a
   * `Cache-Control` unless the response has one), and the guarded visit logged with its status.
   * Call it once, with the response you send. A response with immutable headers is copied.
   */
  finish(response: Response): Promise<Response>;
  /** Ends visitor access for this session at once (see `clearVisitor`). */
  clear(): void;
}

export type HandleResult = Respond | Continue;

export interface FetchVisitorPass {
  /** What visitor-pass makes of `request`: an answer to send, or the visitor and a `finish`. */
  handle(request: Request, options?: HandleOptions): Promise<HandleResult>;
}

const CALLER = "visitorPassFetch()";

/**
 * The request flow over Web `Request`/`Response`. Every decision is the core's; this only
 * translates: a request in, and out either a response to send or the visitor and a `finish` for
 * the app's response. The visitor is stashed in an encrypted cookie (AES-256-GCM, HttpOnly,
 * SameSite=Lax, `__Host-` on https, within 4,096 bytes) unless `session` plugs in a server one.
 *
 * An adapter for another framework is one small file: turn its request into a `Request`, call
 * `handle`, send a `respond`'s response, or run the route and send what `finish` returns.
 * SvelteKit's is its `handle` hook (`examples/sveltekit/src/hooks.server.ts` in the repository).
 *
 * @example A framework that hands you a Request and takes a Response (Bun, Deno, workers)
 * ```ts
 * import { visitorPassFetch, SCOPE_ANY } from "visitor-pass/fetch";
 *
 * const vp = visitorPassFetch(passes, { secret: process.env.VISITOR_PASS_SECRET! });
 * const referenceGuard = { scope: "REFERENCE_REQUEST" }; // one object, reused
 *
 * export default {
 *   async fetch(request: Request): Promise<Response> {
 *     const guarded = new URL(request.url).pathname.startsWith("/reference");
 *     const result = await vp.handle(request, { guard: guarded ? referenceGuard : undefined });
 *     if (result.kind === "respond") return result.response;
 *     const body = result.visitor ? `Hello ${result.visitor.fullName}` : "Hello";
 *     return result.finish(new Response(body));
 *   },
 * };
 * ```
 *
 * @example An adapter for another framework, in one file (here a node:http handler)
 * ```ts
 * import type { IncomingMessage, ServerResponse } from "node:http";
 * import { Readable } from "node:stream";
 * import { visitorPassFetch, type HandleOptions } from "visitor-pass/fetch";
 *
 * export function visitorMiddleware(vp: ReturnType<typeof visitorPassFetch>, options: HandleOptions = {}) {
 *   return async (req: IncomingMessage, res: ServerResponse, route: (visitor) => Promise<Response>) => {
 *     // 1. The framework's request as a Web Request (the body, for a POST, as a stream).
 *     const hasBody = req.method !== "GET" && req.method !== "HEAD";
 *     const request = new Request(`http://${req.headers.host}${req.url}`, {
 *       method: req.method,
 *       headers: req.headers as Record<string, string>,
 *       ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: "half" } : {}),
 *     });
 *     // 2. The core decides.
 *     const result = await vp.handle(request, { ...options, clientAddress: req.socket.remoteAddress });
 *     // 3. Send its answer, or the route's response completed by finish().
 *     const response = result.kind === "respond" ? result.response : await result.finish(await route(result.visitor));
 *     response.headers.forEach((value, name) => {
 *       if (name !== "set-cookie") res.setHeader(name, value);
 *     });
 *     res.setHeader("Set-Cookie", response.headers.getSetCookie()); // each cookie on its own line
 *     res.writeHead(response.status).end(Buffer.from(await response.arrayBuffer()));
 *   };
 * }
 * ```
 */
export function visitorPassFetch(
  passes: VisitorPass,
  options: FetchVisitorPassOptions = {},
): FetchVisitorPass {
  return fetchEntry(passes, options, { caller: CALLER, sessionPerRequest: false });
}

/**
 * A guard's options checked now, at setup: throws `VisitorPassConfigError` for a missing scope,
 * a `bypass` that is not a function, or a self-service guard of `SCOPE_ANY`. Pass what it returns
 * as `handle`'s `guard`. (Options passed to `handle` unchecked are checked on their first use.)
 *
 * @example
 * ```ts
 * import { userIsVisitor, visitorPassFetch } from "visitor-pass/fetch";
 *
 * const vp = visitorPassFetch(passes, { secret: process.env.VISITOR_PASS_SECRET! });
 * const onlyReferees = userIsVisitor({ scope: "REFERENCE_REQUEST" }); // throws now if misconfigured
 *
 * async function reference(request: Request): Promise<Response> {
 *   const result = await vp.handle(request, { guard: onlyReferees });
 *   if (result.kind === "respond") return result.response; // 403 for anyone without the pass
 *   return result.finish(new Response(`Hello ${result.visitor!.firstName}`));
 * }
 * ```
 */
export function userIsVisitor<T = Request>(options: GuardOptions<T>): GuardOptions<T> {
  guardOf(options);
  return options;
}

/**
 * Ends visitor access for the session of a handled request at once: a visitor's final step.
 *
 * @example
 * ```ts
 * const result = await vp.handle(request, { guard: onlyReferees });
 * if (result.kind === "respond") return result.response;
 * // …save the reference…
 * clearVisitor(result); // this session loses its access at once
 * return result.finish(Response.redirect(new URL("/thanks", request.url), 303));
 * ```
 */
export function clearVisitor(result: HandleResult): void {
  if (result.kind !== "continue") {
    throw setupError("clearVisitor() needs the result of handle() that let the request go on.");
  }
  result.clear();
}
