import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from "express";
import session from "express-session";
import {
  clearVisitor,
  selfService,
  userIsVisitor,
  visitorPass,
  visitorRequest,
  visitorSession,
} from "../../src/adapters/express/index.js";
import { SCOPE_ANY, type VisitorPass } from "../../src/index.js";
import type { FrameworkHarness, HarnessOptions, RunningApp } from "./harness.js";
import {
  APP_COOKIE_MAX_AGE,
  OWN_CACHE_CONTROL,
  ownReference,
  REFERENCE_SCOPE,
  SELF_SERVICE_PATH,
} from "./routes.js";

type AppSession = Record<string, unknown>;

function sessionOf(req: Request): AppSession | undefined {
  return (req as Request & { session?: AppSession }).session;
}

const isAuthenticated = (req: Request) => Boolean(sessionOf(req)?.user);

function describeVisitor(req: Request) {
  return {
    visitor: req.visitor?.uuid ?? null,
    isVisitor: req.isVisitor ?? false,
    fullName: req.visitor?.fullName ?? null,
  };
}

function buildApp(
  passes: VisitorPass,
  options: HarnessOptions,
  store: session.MemoryStore,
): express.Express {
  const setup = options.setup ?? "standard";
  const app = express();
  if (setup !== "no-session") {
    app.use(
      session({
        store,
        secret: "behaviour-suite-secret",
        resave: false,
        saveUninitialized: false,
        cookie: { maxAge: APP_COOKIE_MAX_AGE * 1000 },
      }),
    );
  }
  switch (setup) {
    case "standard":
    case "no-session":
      app.use(visitorPass(passes, { isAuthenticated }));
      break;
    case "split":
      app.use(visitorRequest(passes, { isAuthenticated }));
      app.use(visitorSession(passes, { isAuthenticated }));
      break;
    case "session-without-request":
      app.use(visitorSession(passes, { isAuthenticated }));
      break;
    case "guard-without-middleware":
      break;
  }
  // An app middleware mounted after the visitor middleware, as a request logger would be.
  app.use((req, res, next) => {
    res.locals.seen = { originalUrl: req.originalUrl, url: req.url, query: req.query };
    next();
  });

  const guard = userIsVisitor({ scope: REFERENCE_SCOPE });
  const reference: RequestHandler = (req, res) => {
    res.json(describeVisitor(req));
  };

  app.get("/", (_req, res) => {
    res.type("text/plain").send("home");
  });
  app.get("/public", (_req, res) => {
    res.type("text/plain").send("public");
  });
  app.get("/reference", guard, reference);
  app.post("/reference", guard, reference);
  app.post("/reference/finish", guard, (req, res) => {
    clearVisitor(req);
    res.type("text/plain").send("done");
  });
  app.get("/any", userIsVisitor({ scope: SCOPE_ANY }), reference);
  app.get(
    "/staff",
    userIsVisitor({ scope: REFERENCE_SCOPE, bypass: (req) => req.get("x-staff") === "yes" }),
    reference,
  );
  app.get("/nolog", userIsVisitor({ scope: REFERENCE_SCOPE, logVisit: false }), reference);
  app.get("/apply", userIsVisitor({ scope: REFERENCE_SCOPE, selfService: true }), reference);
  app.get(
    "/references/:id",
    userIsVisitor({ scope: REFERENCE_SCOPE, match: ownReference }),
    reference,
  );
  app.get("/teapot", guard, (req, res) => {
    res.status(418).json(describeVisitor(req));
  });
  app.get("/own-cache", guard, (req, res) => {
    res.set("Cache-Control", OWN_CACHE_CONTROL).json(describeVisitor(req));
  });
  app.get("/whoami", (req, res) => {
    const { visitor, isVisitor } = describeVisitor(req);
    res.json({ visitor, isVisitor });
  });
  app.post("/login", (req, res) => {
    const data = sessionOf(req);
    if (data) data.user = "fred";
    res.type("text/plain").send("ok");
  });
  app.get("/anon-data", (req, res) => {
    const data = sessionOf(req);
    if (data) data.cart = "kept";
    res.type("text/plain").send("stored");
  });
  app.get("/cart", (req, res) => {
    res.json({ cart: sessionOf(req)?.cart ?? null });
  });
  app.all("/seen-url", (_req, res) => {
    res.set("x-seen-url", res.locals.seen.originalUrl).json(res.locals.seen);
  });

  if (setup !== "guard-without-middleware")
    app.use(SELF_SERVICE_PATH, selfService(passes, options.selfService));

  const renderError: ErrorRequestHandler = (err, _req, res, _next) => {
    const status = typeof err?.status === "number" ? err.status : 500;
    res.status(status).json({
      error: err?.name ?? "Error",
      status,
      code: err?.code ?? null,
      message: err?.message ?? null,
      cause: err?.cause instanceof Error ? err.cause.message : null,
    });
  };
  app.use(renderError);
  return app;
}

export const expressHarness: FrameworkHarness = {
  name: "express",
  capabilities: {
    serverSession: true,
    splitMiddleware: true,
    guardMiddleware: true,
    missingSession: "request",
    normalisesTargets: false,
    sessionPackage: "express-session",
  },
  async start(passes, options = {}): Promise<RunningApp> {
    const store = new session.MemoryStore();
    const server = createServer(buildApp(passes, options, store));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      sessionCookie: "connect.sid",
      sessionIdOf(cookieValue) {
        let raw: string;
        try {
          raw = decodeURIComponent(cookieValue);
        } catch {
          return null;
        }
        if (!raw.startsWith("s:")) return null;
        const dot = raw.lastIndexOf(".");
        return dot > 2 ? raw.slice(2, dot) : null;
      },
      storedSessions: () =>
        // MemoryStore keeps each session as the JSON a store would write.
        JSON.stringify((store as unknown as { sessions: Record<string, string> }).sessions),
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
