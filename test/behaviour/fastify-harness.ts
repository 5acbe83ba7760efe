import type { AddressInfo } from "node:net";
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import {
  clearVisitor,
  selfService,
  userIsVisitor,
  visitorPass,
} from "../../src/adapters/fastify/index.js";
import { SCOPE_ANY, type VisitorPass } from "../../src/index.js";
import type { FrameworkHarness, HarnessOptions, RunningApp } from "./harness.js";
import {
  APP_COOKIE_MAX_AGE,
  OWN_CACHE_CONTROL,
  ownReference,
  REFERENCE_SCOPE,
  SELF_SERVICE_PATH,
} from "./routes.js";

declare module "fastify" {
  interface Session {
    user?: string;
    cart?: string;
  }
  interface FastifyRequest {
    /** What an app hook registered after the visitor plugin saw of the URL. */
    seen: { originalUrl: string; url: string; query: unknown } | null;
  }
}

const SESSION_COOKIE = "sessionId";
const SESSION_SECRET = "behaviour-suite-secret-at-least-32-characters";

const isAuthenticated = (request: FastifyRequest) => Boolean(request.session?.get("user"));

function describeVisitor(request: FastifyRequest) {
  return {
    visitor: request.visitor?.uuid ?? null,
    isVisitor: request.isVisitor ?? false,
    fullName: request.visitor?.fullName ?? null,
  };
}

export interface FastifyAppOptions extends HarnessOptions {
  /** Where @fastify/session keeps its sessions (a MemoryStore over it). */
  sessions?: Map<string, unknown>;
  /** Render errors as the suite's JSON (the default), or leave them to Fastify's own handler. */
  errorHandler?: "suite" | "fastify";
}

/** The route table of `routes.ts`, the Fastify way; resolves once the app is ready. */
export async function buildFastifyApp(
  passes: VisitorPass,
  options: FastifyAppOptions = {},
): Promise<FastifyInstance> {
  const setup = options.setup ?? "standard";
  if (setup === "split" || setup === "session-without-request") {
    throw new Error(`fastify has one visitorPass plugin: no "${setup}" setup`);
  }
  const app = Fastify({ logger: false });
  if (setup !== "no-session") {
    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      secret: SESSION_SECRET,
      cookieName: SESSION_COOKIE,
      saveUninitialized: false,
      cookie: { secure: false, maxAge: APP_COOKIE_MAX_AGE * 1000 },
      store: new fastifySession.MemoryStore(options.sessions ?? new Map()),
    });
  }
  if (setup !== "guard-without-middleware") {
    await app.register(visitorPass, { passes, isAuthenticated });
  }
  // Routes take the error handler in force when they are declared: set it first.
  if (options.errorHandler !== "fastify") {
    app.setErrorHandler((err: FastifyError & { status?: unknown }, _request, reply) => {
      renderError(err, reply);
    });
  }
  // An app hook registered after the visitor plugin, as a request logger would be.
  app.decorateRequest("seen", null);
  app.addHook("onRequest", async (request) => {
    request.seen = { originalUrl: request.originalUrl, url: request.url, query: request.query };
  });

  const guard = userIsVisitor({ scope: REFERENCE_SCOPE });
  const reference = async (request: FastifyRequest) => describeVisitor(request);

  app.get("/", async (_request, reply) => reply.type("text/plain").send("home"));
  app.get("/public", async (_request, reply) => reply.type("text/plain").send("public"));
  app.get("/reference", { preHandler: guard }, reference);
  app.post("/reference", { preHandler: guard }, reference);
  app.post("/reference/finish", { preHandler: guard }, async (request, reply) => {
    clearVisitor(request);
    return reply.type("text/plain").send("done");
  });
  app.get("/any", { preHandler: userIsVisitor({ scope: SCOPE_ANY }) }, reference);
  app.get(
    "/staff",
    {
      preHandler: userIsVisitor({
        scope: REFERENCE_SCOPE,
        bypass: (request) => request.headers["x-staff"] === "yes",
      }),
    },
    reference,
  );
  app.get(
    "/nolog",
    { preHandler: userIsVisitor({ scope: REFERENCE_SCOPE, logVisit: false }) },
    reference,
  );
  app.get(
    "/apply",
    { preHandler: userIsVisitor({ scope: REFERENCE_SCOPE, selfService: true }) },
    reference,
  );
  app.get(
    "/references/:id",
    { preHandler: userIsVisitor({ scope: REFERENCE_SCOPE, match: ownReference }) },
    reference,
  );
  app.get("/teapot", { preHandler: guard }, async (request, reply) =>
    reply.code(418).send(describeVisitor(request)),
  );
  app.get("/own-cache", { preHandler: guard }, async (request, reply) =>
    reply.header("Cache-Control", OWN_CACHE_CONTROL).send(describeVisitor(request)),
  );
  app.get("/whoami", async (request) => {
    const { visitor, isVisitor } = describeVisitor(request);
    return { visitor, isVisitor };
  });
  app.post("/login", async (request, reply) => {
    request.session?.set("user", "fred");
    return reply.type("text/plain").send("ok");
  });
  app.get("/anon-data", async (request, reply) => {
    request.session?.set("cart", "kept");
    return reply.type("text/plain").send("stored");
  });
  app.get("/cart", async (request) => ({ cart: request.session?.get("cart") ?? null }));
  app.all("/seen-url", async (request, reply) =>
    reply.header("x-seen-url", request.seen?.originalUrl).send(request.seen),
  );
  if (setup !== "guard-without-middleware") {
    await app.register(selfService, {
      ...options.selfService,
      passes,
      prefix: SELF_SERVICE_PATH,
    });
  }

  await app.ready();
  return app;
}

function renderError(err: FastifyError & { status?: unknown }, reply: FastifyReply): void {
  // Fastify's own errors (a bad body, a bad URL) carry only `statusCode`.
  const status =
    typeof err?.status === "number"
      ? err.status
      : typeof err?.statusCode === "number"
        ? err.statusCode
        : 500;
  void reply.code(status).send({
    error: err?.name ?? "Error",
    status,
    code: err?.code ?? null,
    message: err?.message ?? null,
    cause: err?.cause instanceof Error ? err.cause.message : null,
  });
}

export const fastifyHarness: FrameworkHarness = {
  name: "fastify",
  capabilities: {
    serverSession: true,
    splitMiddleware: false,
    guardMiddleware: true,
    missingSession: "startup",
    normalisesTargets: false,
    sessionPackage: "@fastify/session",
  },
  async start(passes, options = {}): Promise<RunningApp> {
    const sessions = new Map<string, unknown>();
    const app = await buildFastifyApp(passes, { ...options, sessions });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      sessionCookie: SESSION_COOKIE,
      sessionIdOf(cookieValue) {
        // @fastify/session's cookie is `<id>.<signature>`, URI-encoded.
        let raw: string;
        try {
          raw = decodeURIComponent(cookieValue);
        } catch {
          return null;
        }
        const dot = raw.lastIndexOf(".");
        return dot > 0 ? raw.slice(0, dot) : null;
      },
      storedSessions: () => JSON.stringify([...sessions]),
      close: async () => {
        app.server.closeAllConnections();
        await app.close();
      },
    };
  },
  guard(options) {
    return userIsVisitor(options);
  },
};
