/**
 * The Next.js App Router adapter: admission in `proxy.ts` (or a route handler), `requireVisitor`
 * for Server Components, Route Handlers and Server Actions, `clearVisitor`, and the self-service
 * pages as a route handler. Built on the Fetch entry point: every decision is the core's.
 *
 * @module visitor-pass/next
 */
import { cookies, headers } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import { NextResponse } from "next/server";
import { VisitorPassConfigError, VisitorPassError } from "../../core/errors.js";
import type { VisitorPass } from "../../core/visitor-pass.js";
import {
  userIsVisitor as checkGuard,
  type FetchVisitorPassOptions,
  type GuardOptions,
  type HandleResult,
  type SelfServiceOptions,
  selfService as selfServicePages,
  type Visitor,
  type VisitorPassHttpError,
  visitorPassFetch,
} from "../fetch/index.js";
import {
  forwardedRequest,
  forwardedUnavailable,
  forwardingHeaders,
  forwardingKey,
  proxiedUrl,
} from "./next-forwarding.js";

export type { GuardOptions, MatchRequest, SessionPort } from "../fetch/index.js";
export {
  MalformedVisitorToken,
  SCOPE_ANY,
  type Visitor,
  VisitorAccessDenied,
  type VisitorPassHttpError,
  VisitorPassThrottled,
  VisitorPassUnavailable,
} from "../fetch/index.js";

/**
 * Options of `visitorPassNext`: those of the Fetch entry point (`secret`, `cookieName`, `secure`,
 * `maxAge`, `session`, `isAuthenticated`), and where the client's address comes from.
 *
 * @example
 * ```ts
 * visitorPassNext(passes, {
 *   secret: process.env.VISITOR_PASS_SECRET!,
 *   // Behind a proxy you run, which sets X-Forwarded-For:
 *   clientAddress: (request) => request.headers.get("x-forwarded-for")?.split(",")[0]?.trim() ?? null,
 * });
 * ```
 */
export interface NextVisitorPassOptions extends FetchVisitorPassOptions {
  /**
   * The client's address, logged with visits and used by the self-service throttles. Next.js
   * gives neither a proxy nor a route the socket's address, and it passes on an
   * `X-Forwarded-For` header the client sent: read it only behind a proxy you trust to set it.
   * @default () => null
   */
  clientAddress?: (request: Request) => string | null;
  /** Options of the self-service pages (`selfService`): the pages themselves, to override them. */
  selfService?: SelfServiceOptions;
}

/**
 * How `requireVisitor` guards, beyond the scope: the guard options of the other adapters
 * (`bypass` gets the request as a Web `Request`), and what a refusal does. Its `match` is given
 * the method, path and query but no `params` (a Server Component's are its props): compare with
 * the value the page already has, `{ match: (visitor) => visitor.context?.referenceId === id }`.
 */
export interface RequireVisitorOptions extends Omit<GuardOptions<Request>, "scope"> {
  /**
   * What a refused request gets instead of Next's `forbidden()` (which needs
   * `experimental.authInterrupts` in next.config), e.g. `() => notFound()` or
   * `() => redirect("/login")`. It must throw (Next's `notFound`, `redirect`, … do). A refusal that
   * is no 403 (503 while the store fails, 429 or 414 on the way to self-service) is thrown as the
   * package's error unless this handles it.
   * @default forbidden() for a 403; the error itself otherwise
   */
  onRefused?: (error: VisitorPassHttpError) => never;
}

/**
 * The guard of a route handler wrapped by `withVisitor`, checked when it is wrapped. Its `match`
 * is given the route's `params` of Next's context (for `app/references/[id]/route.ts`,
 * `request.params.id`).
 */
export interface WithVisitorOptions extends GuardOptions<Request> {
  /**
   * The response for a refused request, to render refusals your way: `response` is the
   * package's (a text page; keep its `Set-Cookie` and `Retry-After` headers if you replace it).
   * @default that response
   */
  onRefused?: (error: VisitorPassHttpError, response: Response) => Response | Promise<Response>;
}

/** What a route handler wrapped by `withVisitor` gets beside Next's own context. */
export interface VisitorRouteContext {
  /** The visitor admitted or restored on this request, or null (`bypass`, or no guard). */
  visitor: Visitor | null;
  /** Ends visitor access for this session at once; the response then clears the cookie. */
  clear(): void;
}

export interface RequireVisitor {
  /**
   * The visitor of this request if its pass has `scope` (any with `SCOPE_ANY`); otherwise Next's
   * `forbidden()`, `options.onRefused`, or with `selfService` a redirect to the self-service form.
   */
  (scope: string, options?: RequireVisitorOptions & { bypass?: undefined }): Promise<Visitor>;
  /** With `bypass`, a request it lets through may have no visitor: then `null`. */
  (scope: string, options: RequireVisitorOptions): Promise<Visitor | null>;
}

/** A Next.js route handler: the request and Next's context (its `params`). */
export type RouteHandler<C> = (request: Request, context: C) => Response | Promise<Response>;

/** What `visitorPassNext` returns: destructure it in one module of the app and export the parts. */
export interface VisitorPassNext {
  /**
   * The request flow in `proxy.ts`: a token on the URL admits (or gets the confirmation page, or
   * 400 when malformed) and is redirected off; a visitor is restored from the stash, which is
   * renewed or cleared as the core decides. Everything after it (`requireVisitor`,
   * `currentVisitor`) relies on it having run: let its `matcher` cover every page that asks.
   */
  proxy(request: Request): Promise<Response>;
  /** See {@link RequireVisitor}. For Server Components, Route Handlers and Server Actions. */
  requireVisitor: RequireVisitor;
  /** The visitor of this request, or null; no guard, no visit log. */
  currentVisitor(): Promise<Visitor | null>;
  /**
   * Ends visitor access for this session at once (a visitor's final step), in a Server Action or
   * Route Handler: a Server Component cannot change cookies, and throws here.
   */
  clearVisitor(): Promise<void>;
  /**
   * A route handler with the whole request flow around it: admission (when no proxy ran before),
   * the guard, and the response completed (the stash's cookie, the guard's `Cache-Control`, the
   * visit logged with its final status).
   */
  withVisitor<C>(
    guard: WithVisitorOptions | null,
    handler: (request: Request, context: C & VisitorRouteContext) => Response | Promise<Response>,
  ): RouteHandler<C>;
  /**
   * The self-service pages as route handlers, for `app/<selfServicePath>/self-service/[uuid]/route.ts`
   * (`app/visitors/self-service/[uuid]/route.ts` by default): `export const { GET, HEAD, POST } = selfService;`.
   */
  selfService: {
    GET: RouteHandler<unknown>;
    HEAD: RouteHandler<unknown>;
    POST: RouteHandler<unknown>;
  };
}

/** Where the top-level exports find the instance the app configured, whatever bundle they are in. */
const REGISTRY = Symbol.for("visitor-pass.next");

interface Registry {
  current?: VisitorPassNext;
}

function registry(): Registry {
  const global = globalThis as { [REGISTRY]?: Registry };
  global[REGISTRY] ??= {};
  return global[REGISTRY];
}

/**
 * visitor-pass for the Next.js App Router, in Auth.js's idiom: call it once in a module of your
 * app and export its parts; `proxy.ts` re-exports `proxy`. It also becomes the instance the
 * top-level `requireVisitor`, `currentVisitor` and `clearVisitor` of `visitor-pass/next` use, in
 * every bundle of the same server (Next bundles the proxy apart from the pages).
 *
 * The visitor is stashed in the Fetch entry point's encrypted, HttpOnly cookie (or the `session`
 * you plug in). Only the proxy, route handlers and Server Actions can set cookies, so the proxy
 * admits and renews, and `requireVisitor` in a Server Component only reads.
 *
 * @example visitor-pass.ts, beside app/
 * ```ts
 * import { createVisitorPass } from "visitor-pass";
 * import { visitorPassNext } from "visitor-pass/next";
 *
 * export const passes = createVisitorPass();
 * export const { proxy, requireVisitor, clearVisitor, selfService } = visitorPassNext(passes, {
 *   secret: process.env.VISITOR_PASS_SECRET!,
 * });
 * ```
 *
 * @example proxy.ts, a page and a Server Action
 * ```ts
 * // proxy.ts
 * export { proxy } from "./visitor-pass";
 *
 * // app/reference/page.tsx
 * import { requireVisitor } from "@/visitor-pass";
 * export default async function Reference() {
 *   const visitor = await requireVisitor("REFERENCE_REQUEST"); // forbidden() for the others
 *   return <h1>Hello {visitor.fullName}</h1>;
 * }
 *
 * // app/reference/actions.ts
 * "use server";
 * import { clearVisitor, requireVisitor } from "@/visitor-pass";
 * export async function submit(form: FormData) {
 *   const visitor = await requireVisitor("REFERENCE_REQUEST");
 *   await saveReference(visitor, form);
 *   await clearVisitor(); // this session loses its access at once
 * }
 * ```
 */
export function visitorPassNext(
  passes: VisitorPass,
  options: NextVisitorPassOptions = {},
): VisitorPassNext {
  if (options.clientAddress !== undefined && typeof options.clientAddress !== "function") {
    throw new VisitorPassConfigError("clientAddress", options.clientAddress, "must be a function");
  }
  const { clientAddress: addressOf = () => null, selfService, ...fetchOptions } = options;
  const vp = visitorPassFetch(passes, fetchOptions);
  const key = forwardingKey(fetchOptions.session ? undefined : fetchOptions.secret);
  const pages = selfServicePages(passes, selfService);
  const selfServicePage = async (request: Request) =>
    (await pages(request, { clientAddress: addressOf(request) })) ??
    new Response("Not Found", { status: 404 });

  /** The flow on this request as the proxy forwarded it, for code after the proxy. */
  async function handleForwarded(
    caller: string,
    guard?: GuardOptions<Request>,
  ): Promise<{ result: HandleResult; jar: CookieJar }> {
    const [incoming, jar] = await Promise.all([headers(), cookies()]);
    const request = forwardedRequest(key, incoming, jar.getAll(), caller);
    const result = await vp.handle(request, {
      guard,
      clientAddress: addressOf(request),
      // Proven with the request: forwardedRequest checked the proxy wrote it.
      unavailable: forwardedUnavailable(incoming),
    });
    return { result, jar };
  }

  const requireVisitor = (async (scope: string, requireOptions: RequireVisitorOptions = {}) => {
    const { onRefused, ...guardOptions } = requireOptions;
    if (onRefused !== undefined && typeof onRefused !== "function") {
      throw new VisitorPassConfigError("onRefused", onRefused, "must be a function");
    }
    const { result, jar } = await handleForwarded("requireVisitor()", { ...guardOptions, scope });
    if (result.kind === "respond") {
      keepCookies(jar, result.response, false);
      if (result.error) {
        if (onRefused) onRefused(result.error);
        if (result.error.status === 403) forbidden();
        throw result.error;
      }
      const location = result.response.headers.get("location");
      if (location !== null) redirect(location);
      throw new VisitorPassError(
        `requireVisitor() got an answer it cannot give from here (${result.response.status}).`,
        "VISITOR_PASS_SETUP",
      );
    }
    // Code after requireVisitor() answers the request; its status is not known here, and a
    // visit is logged as admitted (200), as the proxy and the guard let it through.
    keepCookies(jar, await result.finish(new Response(null)), false);
    return result.visitor;
  }) as RequireVisitor;

  const instance: VisitorPassNext = {
    async proxy(request) {
      const result = await vp.handle(request, { clientAddress: addressOf(request) });
      if (result.kind === "respond") return absoluteLocation(result.response, request.url);
      const set = cookiesOf(await result.finish(new Response(null)));
      // What comes after sees the stash as the proxy just set it, and the request's method and
      // URL without a token (Next keeps a token that admitted nobody on the URL of the pages and
      // routes, as a rewrite keeps the original query: `withVisitor` hands its route the request
      // without it, and `requireVisitor` reads the URL forwarded here).
      const response = NextResponse.next({
        request: {
          headers: forwardingHeaders(key, request, result.request.url, set, result.unavailable),
        },
      });
      for (const cookie of set) response.cookies.set(cookie);
      return response;
    },
    requireVisitor,
    async currentVisitor() {
      const { result, jar } = await handleForwarded("currentVisitor()");
      if (result.kind === "respond") return null;
      keepCookies(jar, await result.finish(new Response(null)), false);
      return result.visitor;
    },
    async clearVisitor() {
      const { result, jar } = await handleForwarded("clearVisitor()");
      if (result.kind === "respond") return;
      result.clear();
      keepCookies(jar, await result.finish(new Response(null)), true);
    },
    withVisitor(guardOptions, handler) {
      const { onRefused, ...described } = guardOptions ?? {};
      if (onRefused !== undefined && typeof onRefused !== "function") {
        throw new VisitorPassConfigError("onRefused", onRefused, "must be a function");
      }
      const guard = guardOptions ? checkGuard(described as GuardOptions<Request>) : undefined;
      return async (incoming, context) => {
        // Behind the proxy, its answer stands: the token it already looked at (and counted, when
        // it admitted nobody) is not looked at again.
        const request = asProxied(key, incoming);
        const proven = proxiedUrl(key, incoming.headers) !== null;
        const result = await vp.handle(request, {
          guard,
          clientAddress: addressOf(request),
          unavailable: proven && forwardedUnavailable(incoming.headers),
          params: guard?.match ? await routeParams(context) : null,
        });
        if (result.kind === "respond") {
          return result.error && onRefused
            ? onRefused(result.error, result.response)
            : result.response;
        }
        const response = await handler(result.request, {
          ...context,
          visitor: result.visitor,
          clear: result.clear,
        });
        return result.finish(response);
      };
    },
    selfService: { GET: selfServicePage, HEAD: selfServicePage, POST: selfServicePage },
  };
  registry().current = instance;
  return instance;
}

/** The route's `params` of Next's context (a promise since Next 15), for a guard's `match`. */
async function routeParams(context: unknown): Promise<Readonly<Record<string, unknown>> | null> {
  const params = await (context as { params?: unknown } | null | undefined)?.params;
  return typeof params === "object" && params !== null
    ? (params as Readonly<Record<string, unknown>>)
    : null;
}

/** `request` at the URL the proxy forwarded (without a token), when a proxy ran before. */
function asProxied(key: Buffer, request: Request): Request {
  const url = proxiedUrl(key, request.headers);
  if (url === null || url === request.url) return request;
  const init: RequestInit & { duplex?: "half" } = {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
  };
  if (request.body) {
    init.body = request.body;
    init.duplex = "half";
  }
  return new Request(url, init);
}

/** `response` with its `Location` made absolute, as Next requires of a proxy's redirect. */
function absoluteLocation(response: Response, base: string): Response {
  const location = response.headers.get("location");
  if (location !== null) response.headers.set("location", new URL(location, base).href);
  return response;
}

type CookieJar = Awaited<ReturnType<typeof cookies>>;
type ParsedCookie = ReturnType<NextResponse["cookies"]["getAll"]>[number];

/** The cookies `response` sets, as Next's cookie objects. */
function cookiesOf(response: Response): ParsedCookie[] {
  if (response.headers.getSetCookie().length === 0) return [];
  const headers = new Headers();
  for (const line of response.headers.getSetCookie()) headers.append("Set-Cookie", line);
  // An emptied cookie (the stash cleared) comes back without its value and its `Max-Age=0`:
  // it is deleted with an expiry in the past.
  return new NextResponse(null, { headers }).cookies
    .getAll()
    .map((cookie) =>
      cookie.value ? cookie : { ...cookie, value: "", maxAge: 0, expires: new Date(0) },
    );
}

/**
 * Sets the cookies of `response` through Next's cookie store. A Server Component cannot: then
 * what the flow wrote is dropped (it only renews or tidies up what the proxy keeps), unless it
 * is `required`.
 */
function keepCookies(jar: CookieJar, response: Response, required: boolean): void {
  for (const cookie of cookiesOf(response)) {
    try {
      jar.set(cookie);
    } catch (error) {
      if (!required) return;
      throw new VisitorPassError(
        "clearVisitor() changes a cookie, which Next allows only in a Server Action or Route Handler.",
        "VISITOR_PASS_SETUP",
        { cause: error },
      );
    }
  }
}

function configured(caller: string): VisitorPassNext {
  const instance = registry().current;
  if (!instance) {
    throw new VisitorPassError(
      `${caller} from "visitor-pass/next" needs visitorPassNext(passes, …) to have run in this server first: import the module that calls it from proxy.ts, or use the ${caller.replace("()", "")} it returns.`,
      "VISITOR_PASS_SETUP",
    );
  }
  return instance;
}

/**
 * The configured instance's `proxy`, for a `proxy.ts` that does not import the module calling
 * `visitorPassNext` (which must then run first, e.g. from `instrumentation.ts`).
 */
export async function proxy(request: Request): Promise<Response> {
  return configured("proxy()").proxy(request);
}

/**
 * The configured instance's `requireVisitor` (see {@link RequireVisitor}): once `visitorPassNext`
 * has run in this server, any page, route or action can import it from `visitor-pass/next`.
 *
 * @example
 * ```ts
 * import { notFound } from "next/navigation";
 * import { requireVisitor } from "visitor-pass/next";
 *
 * export default async function Reference() {
 *   const visitor = await requireVisitor("REFERENCE_REQUEST", { onRefused: () => notFound() });
 *   return <p>Hello {visitor.firstName}</p>;
 * }
 * ```
 */
export const requireVisitor: RequireVisitor = (async (
  scope: string,
  options?: RequireVisitorOptions,
) => {
  // Asks for the request first: a page that calls this is rendered for each request, never
  // prerendered by the build (where no instance is configured).
  await headers();
  return configured("requireVisitor()").requireVisitor(scope, options as RequireVisitorOptions);
}) as RequireVisitor;

/** The configured instance's `currentVisitor`: the visitor of this request, or null. */
export async function currentVisitor(): Promise<Visitor | null> {
  await headers();
  return configured("currentVisitor()").currentVisitor();
}

/**
 * The configured instance's `withVisitor` (see `VisitorPassNext`): the guard is checked now, the
 * route runs with the instance configured when a request comes.
 *
 * @example app/reference/route.ts
 * ```ts
 * import { withVisitor } from "visitor-pass/next";
 *
 * export const GET = withVisitor({ scope: "REFERENCE_REQUEST" }, (request, { visitor }) =>
 *   Response.json({ name: visitor?.fullName }),
 * );
 * ```
 */
export function withVisitor<C>(
  guard: WithVisitorOptions | null,
  handler: (request: Request, context: C & VisitorRouteContext) => Response | Promise<Response>,
): RouteHandler<C> {
  if (guard) {
    const { onRefused: _, ...described } = guard;
    checkGuard(described);
  }
  const wrapped = new WeakMap<VisitorPassNext, RouteHandler<C>>();
  return (request, context) => {
    const instance = configured("withVisitor()");
    let route = wrapped.get(instance);
    if (!route) {
      route = instance.withVisitor(guard, handler);
      wrapped.set(instance, route);
    }
    return route(request, context);
  };
}

/** The configured instance's self-service route handlers: `export { GET, HEAD, POST }` of them. */
export const selfService: VisitorPassNext["selfService"] = {
  GET: (request, context) => configured("selfService.GET").selfService.GET(request, context),
  HEAD: (request, context) => configured("selfService.HEAD").selfService.HEAD(request, context),
  POST: (request, context) => configured("selfService.POST").selfService.POST(request, context),
};

/** The configured instance's `clearVisitor`, for a Server Action or Route Handler. */
export async function clearVisitor(): Promise<void> {
  await headers();
  return configured("clearVisitor()").clearVisitor();
}
