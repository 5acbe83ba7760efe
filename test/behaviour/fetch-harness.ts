import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { getRequestListener } from "@hono/node-server";
import {
  clearVisitor,
  type GuardOptions,
  type HandleResult,
  SCOPE_ANY,
  selfService,
  userIsVisitor,
  type VisitorPassHttpError,
  visitorPassFetch,
} from "../../src/adapters/fetch/index.js";
import type { VisitorPass } from "../../src/index.js";
import type { FrameworkHarness, HarnessOptions, RunningApp } from "./harness.js";
import { HONO_SECRET, openStash, STASH_COOKIE } from "./hono-harness.js";
import {
  APP_COOKIE_MAX_AGE,
  OWN_CACHE_CONTROL,
  ownReference,
  REFERENCE_SCOPE,
  SELF_SERVICE_PATH,
} from "./routes.js";

/** The app's own cookies: who is signed in (signed), and a bit of anonymous data. */
const USER_COOKIE = "app_user";
const CART_COOKIE = "app_cart";
const APP_SECRET = "behaviour-suite-app-secret-of-32+chars";

const sign = (value: string) => createHmac("sha256", APP_SECRET).update(value).digest("base64url");

function cookie(request: Request, name: string): string | null {
  for (const pair of (request.headers.get("cookie") ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return null;
}

/** The signed-in user of the app's own cookie, or null. */
function userOf(request: Request): string | null {
  const value = cookie(request, USER_COOKIE);
  const dot = value?.lastIndexOf(".") ?? -1;
  if (!value || dot < 0) return null;
  const user = value.slice(0, dot);
  const expected = Buffer.from(sign(user));
  const given = Buffer.from(value.slice(dot + 1));
  return expected.length === given.length && timingSafeEqual(expected, given) ? user : null;
}

const json = (body: unknown, status = 200) => Response.json(body, { status });

function errorResponse(error: Error & { status?: unknown; code?: unknown }): Response {
  const status = typeof error.status === "number" ? error.status : 500;
  return json(
    {
      error: error.name ?? "Error",
      status,
      code: error.code ?? null,
      message: error.message ?? null,
      cause: error.cause instanceof Error ? error.cause.message : null,
    },
    status,
  );
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The route table of `routes.ts` over `visitorPassFetch`, as a plain `fetch` handler. */
export function buildFetchHandler(passes: VisitorPass, options: HarnessOptions = {}) {
  const vp = visitorPassFetch(passes, {
    secret: HONO_SECRET,
    cookieName: STASH_COOKIE,
    maxAge: APP_COOKIE_MAX_AGE,
    isAuthenticated: (request) => userOf(request) !== null,
  });
  const pages = selfService(passes, options.selfService);
  const reference = userIsVisitor({ scope: REFERENCE_SCOPE });
  const guards: Record<string, GuardOptions<Request>> = {
    "/reference": reference,
    "/reference/finish": reference,
    "/teapot": reference,
    "/own-cache": reference,
    "/any": userIsVisitor({ scope: SCOPE_ANY }),
    "/staff": userIsVisitor({
      scope: REFERENCE_SCOPE,
      bypass: (r) => r.headers.get("x-staff") === "yes",
    }),
    "/nolog": userIsVisitor({ scope: REFERENCE_SCOPE, logVisit: false }),
    "/apply": userIsVisitor({ scope: REFERENCE_SCOPE, selfService: true }),
  };
  const ownReferenceGuard = userIsVisitor({ scope: REFERENCE_SCOPE, match: ownReference });

  return async (request: Request, clientAddress: string | null): Promise<Response> => {
    const { pathname } = new URL(request.url);
    // `/references/:id`, as a router would match it and decode its parameter.
    const owned = /^\/references\/([^/]+)$/.exec(pathname);
    const params = owned ? { id: decoded(owned[1]!) } : undefined;
    const guard = owned ? ownReferenceGuard : guards[pathname];
    let result: HandleResult;
    try {
      result = await vp.handle(request, { guard, clientAddress, params });
    } catch (error) {
      return errorResponse(error as Error);
    }
    if (result.kind === "respond") {
      if (!result.error) return result.response;
      // The app renders refusals itself, keeping the headers visitor-pass set (cookie, Retry-After).
      const rendered = errorResponse(result.error as VisitorPassHttpError);
      result.response.headers.forEach((value, name) => {
        if (!["content-type", "content-length", "set-cookie"].includes(name)) {
          rendered.headers.set(name, value);
        }
      });
      for (const line of result.response.headers.getSetCookie()) {
        rendered.headers.append("Set-Cookie", line);
      }
      return rendered;
    }
    const seen = new URL(result.request.url);
    const describe = () => ({
      visitor: result.visitor?.uuid ?? null,
      isVisitor: result.visitor !== null,
      fullName: result.visitor?.fullName ?? null,
    });
    const method = request.method.toUpperCase();
    const read = method === "GET" || method === "HEAD";
    let response: Response | null = null;
    if (pathname === "/" && read) response = new Response("home");
    else if (pathname === "/public" && read) response = new Response("public");
    else if (pathname === "/reference" && (read || method === "POST")) response = json(describe());
    else if (pathname === "/reference/finish" && method === "POST") {
      clearVisitor(result);
      response = new Response("done");
    } else if (["/any", "/staff", "/nolog", "/apply"].includes(pathname) && read) {
      response = json(describe());
    } else if (owned && read) response = json(describe());
    else if (pathname === "/teapot" && read) response = json(describe(), 418);
    else if (pathname === "/own-cache" && read) {
      response = json(describe());
      response.headers.set("Cache-Control", OWN_CACHE_CONTROL);
    } else if (pathname === "/whoami" && read) {
      const { visitor, isVisitor } = describe();
      response = json({ visitor, isVisitor });
    } else if (pathname === "/login" && method === "POST") {
      response = new Response("ok");
      response.headers.append(
        "Set-Cookie",
        `${USER_COOKIE}=fred.${sign("fred")}; Path=/; HttpOnly; SameSite=Lax`,
      );
    } else if (pathname === "/anon-data" && read) {
      response = new Response("stored");
      response.headers.append(
        "Set-Cookie",
        `${CART_COOKIE}=kept; Max-Age=${APP_COOKIE_MAX_AGE}; Path=/`,
      );
    } else if (pathname === "/cart" && read) {
      response = json({ cart: cookie(request, CART_COOKIE) });
    } else if (pathname === "/seen-url") {
      const url = `${seen.pathname}${seen.search}`;
      response = json({ originalUrl: url, url, query: Object.fromEntries(seen.searchParams) });
      response.headers.set("x-seen-url", url);
    } else if (pathname.startsWith(`${SELF_SERVICE_PATH}/`)) {
      response = await pages(result.request, { clientAddress });
    }
    return result.finish(response ?? new Response("Not Found", { status: 404 }));
  };
}

function stashSessionId(cookieValue: string): string | null {
  const sid = openStash(cookieValue)?.sid;
  return typeof sid === "string" ? sid : null;
}

export const fetchHarness: FrameworkHarness = {
  name: "fetch",
  capabilities: {
    serverSession: false,
    splitMiddleware: false,
    guardMiddleware: false,
    missingSession: "none",
    normalisesTargets: false,
    sessionPackage: null,
  },
  async start(passes, options = {}): Promise<RunningApp> {
    const setup = options.setup ?? "standard";
    if (setup !== "standard") {
      throw new Error(`fetch has one handle() and no session layer: no "${setup}" setup`);
    }
    const handler = buildFetchHandler(passes, options);
    const server = createServer(
      getRequestListener((request, env: { incoming: { socket: { remoteAddress?: string } } }) =>
        handler(request, env.incoming.socket.remoteAddress ?? null),
      ),
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    return {
      url: `http://127.0.0.1:${port}`,
      sessionCookie: STASH_COOKIE,
      sessionIdOf: stashSessionId,
      close: () =>
        new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          server.closeAllConnections();
        }),
    };
  },
  guard(options) {
    return userIsVisitor(options);
  },
};
