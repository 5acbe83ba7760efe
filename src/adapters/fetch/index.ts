/**
 * The request flow on Web-standard `Request` and `Response`: for any framework or runtime that
 * speaks them, and the base from which an adapter for another framework is one small file.
 *
 * @module
 */
import {
  VisitorPassConfigError,
  VisitorPassError,
  type VisitorPassHttpError,
  VisitorPassThrottled,
} from "../../core/errors.js";
import {
  answerOf,
  createGuard,
  type Guard,
  type GuardOptions,
  type SessionPort,
  type VisitRequest,
} from "../../core/flow.js";
import { htmlPage, PAGE_HEADERS, type PageResponse, textPage } from "../../core/page.js";
import { stripToken } from "../../core/tokens.js";
import type { Visitor } from "../../core/visitor.js";
import { flowOf, type VisitorPass } from "../../core/visitor-pass.js";
import { throttledPage } from "../../ui/refusal-pages.js";
import { cookieStash, type StashSession, stashOptions } from "./cookie-stash.js";

export {
  MalformedVisitorToken,
  VisitorAccessDenied,
  VisitorPassHttpError,
  VisitorPassThrottled,
  VisitorPassUnavailable,
  VisitorPassUriTooLong,
} from "../../core/errors.js";
export { type GuardOptions, SCOPE_ANY, type SessionPort } from "../../core/flow.js";
export type { Visitor } from "../../core/visitor.js";
export { type SelfServiceOptions, selfService } from "./self-service.js";

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

export interface HandleOptions {
  /**
   * Guard this request: admit visitors whose pass has `scope` (any with `SCOPE_ANY`), or anyone
   * `bypass(request)` lets through; refuse the others (403; 503 while the store fails), or with
   * `selfService` send them to the self-service form. Pass the same object on every request
   * (`userIsVisitor(options)` checks it at setup): the guard it describes is checked once and kept.
   * @default no guard: the visitor, if any, is recognised and nothing is refused
   */
  guard?: GuardOptions<Request>;
  /**
   * The client address, which a `Request` does not carry: what your server resolved (the socket's
   * address, or a trusted proxy's header). Logged with visits and used by self-service throttles.
   * @default null
   */
  clientAddress?: string | null;
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
  /** The visitor admitted by a token on this request or restored from the session, or null. */
  visitor: Visitor | null;
  /** The request as the app should see it: without the token, which must not reach its logs. */
  request: Request;
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
 *
 * @example A framework that hands you a `Request` and takes a `Response` (Bun, Deno, workers)
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
 * @example An adapter for another framework, in one file (here a `node:http`-style handler)
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
  const flow = flowOf(passes, CALLER);
  for (const name of ["session", "isAuthenticated"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new VisitorPassConfigError(name, options[name], "must be a function");
    }
  }
  const isAuthenticated = options.isAuthenticated ?? (() => false);
  const stash = options.session ? null : cookieStash(stashOptions(options, flow, CALLER));
  return {
    async handle(request, handleOptions = {}) {
      const guard = handleOptions.guard ? guardOf(handleOptions.guard) : null;
      const session: SessionPort | StashSession = stash
        ? await stash(request)
        : await options.session!(request);
      const commit = async (): Promise<string | null> =>
        stash ? (session as StashSession).commit() : null;
      const respond = async (
        response: Response,
        error?: VisitorPassHttpError,
      ): Promise<Respond> => {
        const cookie = await commit();
        if (cookie !== null) response.headers.append("Set-Cookie", cookie);
        return error ? { kind: "respond", response, error } : { kind: "respond", response };
      };

      const visit = visitRequest(request, handleOptions.clientAddress ?? null);
      const context = { authenticated: await isAuthenticated(request) };
      const recognition = await flow.recognise(visit, session, context);
      const answer = answerOf(recognition);
      if (answer) return { kind: "respond", response: pageResponse(answer) };
      const seen = recognition.kind === "none" ? request : withoutToken(request, flow);
      const settlement = await flow.settle(visit, session, recognition, context);
      if (settlement.redirectTo !== null) {
        return respond(
          redirect(
            settlement.redirectTo,
            settlement.redirectStatus ?? 302,
            settlement.redirectHeaders,
          ),
        );
      }
      const { visitor } = settlement;
      let finishing: Pick<Continue, "finish"> = {
        finish: async (response) => withHeaders(response, await commit(), null),
      };
      if (guard) {
        const outcome = await flow.guardRequest(guard, seen, visitor, {
          visit,
          session,
          unavailable: settlement.unavailable,
        });
        if (outcome.kind === "redirect") return respond(redirect(outcome.location, outcome.status));
        if (outcome.kind === "deny") return respond(refusal(outcome.error), outcome.error);
        const { log, headers } = outcome;
        finishing = {
          finish: async (response) => {
            const finished = withHeaders(response, await commit(), headers);
            if (log) flow.recordPending(log, finished.status);
            return finished;
          },
        };
      }
      return {
        kind: "continue",
        visitor,
        request: seen,
        finish: finishing.finish,
        clear: () => flow.clear(session, visitor),
      };
    },
  };
}

/** Guards by the options object that describes them: checked once, not on every request. */
const GUARDS = new WeakMap<GuardOptions<Request>, Guard<Request>>();

function guardOf(described: GuardOptions<Request>): Guard<Request> {
  let guard = GUARDS.get(described);
  if (!guard) {
    guard = createGuard(described);
    GUARDS.set(described, guard);
  }
  return guard;
}

/**
 * A guard's options checked now, at setup: throws `VisitorPassConfigError` for a missing scope,
 * a `bypass` that is not a function, or a self-service guard of `SCOPE_ANY`. Pass what it returns
 * as `handle`'s `guard`. (Options passed to `handle` unchecked are checked on their first use.)
 */
export function userIsVisitor(options: GuardOptions<Request>): GuardOptions<Request> {
  guardOf(options);
  return options;
}

/** Ends visitor access for the session of a handled request at once: a visitor's final step. */
export function clearVisitor(result: HandleResult): void {
  if (result.kind !== "continue") {
    throw new VisitorPassError(
      "clearVisitor() needs the result of handle() that let the request go on.",
      "VISITOR_PASS_SETUP",
    );
  }
  result.clear();
}

function visitRequest(request: Request, ip: string | null): VisitRequest {
  const url = new URL(request.url);
  const headers = request.headers;
  return {
    method: request.method,
    url: `${url.pathname}${url.search}`,
    userAgent: headers.get("user-agent"),
    referer: headers.get("referer"),
    ip,
    origin: headers.get("origin"),
    secFetchSite: headers.get("sec-fetch-site"),
    host: headers.get("host") ?? url.host,
  };
}

/** `request` at its URL without the token: a `Request`'s URL cannot change, so it is copied. */
function withoutToken(request: Request, flow: ReturnType<typeof flowOf>): Request {
  const url = new URL(request.url);
  const clean = stripToken(`${url.pathname}${url.search}`, flow.config.querystringKey);
  if (clean === `${url.pathname}${url.search}`) return request;
  const init: RequestInit & { duplex?: "half" } = {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    redirect: request.redirect,
  };
  if (request.body) {
    init.body = request.body;
    init.duplex = "half";
  }
  return new Request(new URL(clean, url), init);
}

function pageResponse(page: PageResponse): Response {
  return new Response(page.body, { status: page.status, headers: page.headers });
}

function redirect(location: string, status: number, headers?: Record<string, string>): Response {
  return new Response(null, { status, headers: { ...headers, Location: location } });
}

/** A guard's refusal: a small page for a 429, else the error's message as text. */
function refusal(error: VisitorPassHttpError): Response {
  const headers = error.headers ?? {};
  const page =
    error instanceof VisitorPassThrottled
      ? { ...htmlPage(429, throttledPage(error.retryAfter)), headers: { ...PAGE_HEADERS } }
      : textPage(error.status, error.message);
  return pageResponse({ ...page, headers: { ...page.headers, ...headers } });
}

/** `response` with the stash's cookie and the guard's headers (unless it has its own). */
function withHeaders(
  response: Response,
  cookie: string | null,
  headers: Readonly<Record<string, string>> | null,
): Response {
  const missing = headers ? Object.keys(headers).filter((name) => !response.headers.has(name)) : [];
  if (cookie === null && missing.length === 0) return response;
  let target = response;
  try {
    apply(target.headers);
  } catch {
    // Headers of a `Response.redirect()` or a `fetch()` result are immutable: copy the response.
    target = new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    apply(target.headers);
  }
  return target;

  function apply(into: Headers): void {
    for (const name of missing) into.set(name, headers![name]!);
    if (cookie !== null) into.append("Set-Cookie", cookie);
  }
}
