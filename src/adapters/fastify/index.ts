/**
 * The Fastify adapter: a plugin for the session, a preHandler guard, the self-service and admin plugins.
 *
 * @module visitor-pass/fastify
 */
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from "fastify";
import fp from "fastify-plugin";
import type { VisitorPassUnavailable } from "../../core/errors.js";
import { setupError } from "../../core/errors.js";
import { createGuard, type GuardOptions } from "../../core/guard.js";
import type { SessionPort, VisitRequest } from "../../core/ports.js";
import type { PendingVisit, RequestContext, VisitorFlow } from "../../core/request-flow.js";
import { hasUser } from "../../core/request-flow.js";
import type { Visitor } from "../../core/visitor.js";
import { flowOf, type VisitorPass } from "../../core/visitor-pass.js";
import { sendPage } from "./fastify-response.js";
import { keepCookieLifetime, sessionPort } from "./fastify-session-port.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The visitor admitted by a token on this request or restored from the session. */
    visitor: Visitor | null;
    /** Whether `visitor` is set. */
    isVisitor: boolean;
  }
}

export type { GuardOptions, MatchRequest } from "../../core/guard.js";
export type {
  Closable,
  CloseGracefullyOptions,
  CloseResult,
  HandleSignalsOptions,
} from "../../server/graceful-close.js";
export { handleSignals } from "../../server/graceful-close.js";
export { type FastifyAdminOptions, visitorAdmin } from "./fastify-admin.js";
export { closeGracefully } from "./fastify-close.js";
export { selfService } from "./fastify-self-service.js";

/**
 * Options of the `visitorPass` plugin.
 *
 * @example
 * ```ts
 * await app.register(visitorPass, {
 *   passes,
 *   isAuthenticated: (request) => request.session.get("user") != null,
 * });
 * ```
 */
export interface VisitorPassPluginOptions {
  /** The object `createVisitorPass()` returned. */
  passes: VisitorPass;
  /**
   * Whether a user is signed in; a visitor's session cookie lifetime only applies when not.
   * @default (request) => request.user != null
   */
  isAuthenticated?: (request: FastifyRequest) => boolean;
}

interface RequestState {
  flow: VisitorFlow;
  /** The request as the core sees it, read once (with its token: the core strips it). */
  incoming: VisitRequest;
  /** `null` only for a target that is not a path (`OPTIONS *`, an absolute URL) with no session. */
  session: SessionPort | null;
  unavailable: VisitorPassUnavailable | null;
  /** The visit to log once the status code is final. */
  visit?: PendingVisit;
}

const STATE = Symbol("visitor-pass.request");
type StatefulRequest = FastifyRequest & { [STATE]?: RequestState };

function visitRequest(request: FastifyRequest): VisitRequest {
  const header = (name: string) => {
    const value = request.headers[name];
    return (Array.isArray(value) ? value[0] : value) ?? null;
  };
  return {
    method: request.method,
    url: request.url,
    userAgent: header("user-agent"),
    referer: header("referer"),
    ip: request.ip ?? null,
    origin: header("origin"),
    secFetchSite: header("sec-fetch-site"),
    host: header("host"),
  };
}

const MISSING_SESSION =
  "visitorPass needs request.session: register @fastify/session (with @fastify/cookie) before it.";

const plugin: FastifyPluginAsync<VisitorPassPluginOptions> = async (fastify, options) => {
  const flow = flowOf(options?.passes, "visitorPass");
  const isAuthenticated = options.isAuthenticated ?? hasUser;

  fastify.decorateRequest("visitor", null);
  fastify.decorateRequest("isVisitor", false);

  fastify.addHook("onRequest", async (request, reply) => {
    const session = sessionPort(request);
    const visit = visitRequest(request);
    const state: RequestState = { flow, incoming: visit, session, unavailable: null };
    (request as StatefulRequest)[STATE] = state;
    if (session) keepCookieLifetime(request);
    const context: RequestContext = {
      get authenticated() {
        return isAuthenticated(request);
      },
    };
    const result = await flow.enter(visit, session, context, MISSING_SESSION);
    request.visitor = result.visitor;
    request.isVisitor = result.visitor !== null;
    if (result.kind === "respond") return sendPage(reply, result);
    state.unavailable = result.unavailable;
    if (result.hideToken) hideToken(request, flow);
  });

  fastify.addHook("onSend", async (request, reply, payload) => {
    const state = (request as StatefulRequest)[STATE];
    if (state?.visit) {
      state.flow.recordPending(state.visit, reply.statusCode);
      state.visit = undefined;
    }
    return payload;
  });
};

/**
 * The visitor-pass plugin: register it after @fastify/session with `{ passes }`. Recognises a
 * token on the query string (admitting, rotating the session and redirecting off the token),
 * restores a visitor stashed in the session, and decorates `request.visitor` / `request.isVisitor`.
 *
 * @example
 * ```ts
 * import fastifyCookie from "@fastify/cookie";
 * import fastifySession from "@fastify/session";
 * import Fastify from "fastify";
 * import { createVisitorPass } from "visitor-pass";
 * import { visitorPass } from "visitor-pass/fastify";
 *
 * const passes = createVisitorPass();
 * await passes.migrate();
 * const app = Fastify();
 * await app.register(fastifyCookie);
 * await app.register(fastifySession, { secret: process.env.SESSION_SECRET!, saveUninitialized: false });
 * await app.register(visitorPass, {
 *   passes,
 *   isAuthenticated: (request) => request.session.get("user") != null,
 * }); // request.visitor, request.isVisitor
 * ```
 */
export const visitorPass = fp(plugin, {
  name: "visitor-pass",
  fastify: "5.x",
  dependencies: ["@fastify/session"],
});

/**
 * Takes the token off the URL and the parsed query the app sees next (hooks, handlers, its
 * request logs). Fastify parsed `request.query` before any hook ran, so it is mended too.
 */
function hideToken(request: FastifyRequest, flow: VisitorFlow): void {
  const key = flow.config.querystringKey;
  request.raw.url = flow.withoutToken(request.raw.url ?? "/");
  const query = request.query as Record<string, unknown> | null | undefined;
  if (query && typeof query === "object" && Object.hasOwn(query, key)) delete query[key];
}

function stateOf(request: FastifyRequest, caller: string): RequestState {
  const state = (request as StatefulRequest)[STATE];
  if (!state)
    throw setupError(`${caller} needs the visitorPass plugin registered on this instance.`);
  return state;
}

/**
 * A preHandler guarding a route: admits visitors whose pass has `scope` (any scope with
 * `SCOPE_ANY`), or anyone `bypass(request)` lets through; otherwise throws `VisitorAccessDenied`
 * (403), or `VisitorPassUnavailable` (503) while the store is failing. With `selfService`, a
 * request over its network's budget gets `VisitorPassThrottled` (429, its `Retry-After` header
 * already set on the reply), and one whose URL is too long to remember `VisitorPassUriTooLong`
 * (414).
 *
 * @example
 * ```ts
 * import { userIsVisitor } from "visitor-pass/fastify";
 *
 * const onlyReferees = userIsVisitor({ scope: "REFERENCE_REQUEST" });
 * app.get("/reference", { preHandler: onlyReferees }, (request, reply) =>
 *   reply.send(`Hello ${request.visitor?.firstName}`),
 * );
 * ```
 */
export function userIsVisitor(options: GuardOptions<FastifyRequest>): preHandlerAsyncHookHandler {
  const guard = createGuard(options);
  return async function guardVisitor(this: FastifyInstance, request, reply) {
    const state = stateOf(request, "userIsVisitor()");
    const result = await state.flow.guard(guard, request, request.visitor, {
      visit: state.incoming,
      session: state.session,
      unavailable: state.unavailable,
      params: request.params as Readonly<Record<string, unknown>> | null,
    });
    if (result.kind === "respond") {
      if (!result.error) return sendPage(reply, result);
      // Set here too, for an app error handler that renders the error its own way.
      if (result.error.headers) reply.headers(result.error.headers);
      throw result.error;
    }
    if (result.log) state.visit = result.log;
    // Set before the handler runs, so that the handler's own headers win.
    for (const name in result.headers) {
      if (!reply.hasHeader(name)) reply.header(name, result.headers[name]);
    }
  };
}

/**
 * Ends visitor access for this session at once: the "final step" of a visitor's journey.
 *
 * @example
 * ```ts
 * app.post("/reference", { preHandler: onlyReferees }, async (request, reply) => {
 *   await saveReference(request.visitor!, request.body);
 *   clearVisitor(request); // this session loses its access at once
 *   return reply.redirect("/thanks", 303);
 * });
 * ```
 */
export function clearVisitor(request: FastifyRequest): void {
  const state = stateOf(request, "clearVisitor()");
  if (state.session) state.flow.clear(state.session, request.visitor);
  request.visitor = null;
  request.isVisitor = false;
}
