import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import express from "express";
import session from "express-session";
import Fastify from "fastify";
import { Hono } from "hono";
import {
  visitorAdmin as expressAdmin,
  userIsVisitor,
  visitorPass,
} from "../../src/adapters/express/index.js";
import { visitorAdmin as fastifyAdmin } from "../../src/adapters/fastify/index.js";
import { visitorAdmin as honoAdmin } from "../../src/adapters/hono/index.js";
import { flowOf } from "../../src/core/visitor-pass.js";
import {
  createVisitorPass,
  type Visitor,
  type VisitorPass,
  type VisitorPassOptions,
} from "../../src/index.js";

export const MOUNT = "/admin/visitors";
export const ADMIN_HEADER = "x-admin";
export const ADMIN_SECRET = "let-me-in";
export const HOSTILE = "<script>alert(1)</script>";
export const MANY = 30;

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** An admin mounted at MOUNT in one framework; `authorize` lets in requests carrying ADMIN_HEADER. */
export interface AdminFramework {
  name: "express" | "fastify" | "hono";
  /** Listens on 127.0.0.1 with the admin mounted at `mount` (a route pattern). */
  start(passes: VisitorPass, mount?: string): Promise<RunningServer>;
  /** Sets up the admin with these options, for the setup checks (throws what setup throws). */
  setUp(passes: VisitorPass, options: Record<string, unknown>): Promise<void>;
}

function listen(server: Server): Promise<RunningServer> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export const FRAMEWORKS: AdminFramework[] = [
  {
    name: "express",
    async start(passes, mount = MOUNT) {
      const app = express();
      app.use(
        mount,
        expressAdmin(passes, { authorize: (req) => req.get(ADMIN_HEADER) === ADMIN_SECRET }),
      );
      return listen(createServer(app));
    },
    async setUp(passes, options) {
      express().use(MOUNT, expressAdmin(passes, options as never));
    },
  },
  {
    name: "fastify",
    async start(passes, mount = MOUNT) {
      const app = Fastify();
      await app.register(fastifyAdmin, {
        passes,
        authorize: async (request) => request.headers[ADMIN_HEADER] === ADMIN_SECRET,
        prefix: mount,
      });
      await app.listen({ port: 0, host: "127.0.0.1" });
      const { port } = app.server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
    },
    async setUp(passes, options) {
      const app = Fastify();
      try {
        await app.register(fastifyAdmin, { passes, ...options } as never);
        await app.ready();
      } finally {
        await app.close();
      }
    },
  },
  {
    name: "hono",
    async start(passes, mount = MOUNT) {
      const app = new Hono();
      app.route(
        mount,
        honoAdmin(passes, {
          authorize: async (c) => c.req.header(ADMIN_HEADER) === ADMIN_SECRET,
        }),
      );
      return new Promise((resolve) => {
        const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
          resolve({
            url: `http://127.0.0.1:${info.port}`,
            close: () =>
              new Promise<void>((done) => {
                (server as Server).closeAllConnections?.();
                server.close(() => done());
              }),
          });
        });
      });
    },
    async setUp(passes, options) {
      new Hono().route(MOUNT, honoAdmin(passes, options as never));
    },
  },
];

export interface Seed {
  /** A pass whose names and context are hostile markup. */
  hostile: Visitor;
  /** A pass visited from several sessions, networks and browsers. */
  shared: Visitor;
  expired: Visitor;
  inactive: Visitor;
  /** MANY passes of scope NEWSLETTER, oldest first. */
  many: Visitor[];
}

/** A migrated in-memory pass service whose visit logs are written right away. */
export async function openPasses(options: VisitorPassOptions = {}): Promise<VisitorPass> {
  const passes = createVisitorPass({
    database: "sqlite::memory:",
    env: {},
    landingRedirect: false,
    ...options,
  });
  await passes.migrate();
  return passes;
}

/**
 * Passes to look at: one hostile, one visited as if its link went round, one expired, one
 * inactive and MANY newsletter passes. Visits go through the real flow (an Express app with the
 * visitor middleware and a guarded route), each from a fresh session.
 */
export async function seed(passes: VisitorPass): Promise<Seed> {
  const expired = await passes.create({
    email: "old@example.org",
    scope: "REFERENCE",
    firstName: "Olive",
    lastName: "Oldham",
    expiresAt: new Date(Date.now() - 60_000),
  });
  const created = await passes.create({ email: "off@example.org", scope: "REFERENCE" });
  const inactive = (await passes.deactivate(created.uuid))!;
  const hostile = await passes.create({
    email: "mallory@example.org",
    scope: "REFERENCE",
    firstName: HOSTILE,
    lastName: `O'Hara & <b>Sons</b>`,
    context: { note: `</pre>${HOSTILE}`, nested: { list: [1, "<img src=x onerror=alert(2)>"] } },
  });
  const shared = await passes.create({
    email: "ginger@example.org",
    scope: "REFERENCE",
    firstName: "Ginger",
    lastName: "Rogers",
    context: { reference: "Fred" },
  });
  const many: Visitor[] = [];
  for (let i = 1; i <= MANY; i++) {
    many.push(
      await passes.create({
        email: `reader${String(i).padStart(2, "0")}@example.net`,
        scope: "NEWSLETTER",
        firstName: "Reader",
        lastName: String(i),
      }),
    );
  }

  const visits = await visitApp(passes);
  try {
    await visits.visit(hostile, {
      ip: "192.0.2.10",
      userAgent: `Mozilla/5.0 ${HOSTILE}`,
      referer: `https://example.com/?r=${HOSTILE}`,
    });
    const browsers = [
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
      "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0",
    ];
    for (const [index, userAgent] of browsers.entries()) {
      await visits.visit(shared, { ip: `198.51.${100 + index}.7`, userAgent, referer: null });
    }
  } finally {
    await visits.close();
  }
  await passes.flush();
  return { hostile, shared, expired, inactive, many };
}

/** An app with a guarded route, to log visits the way a real app does. */
async function visitApp(passes: VisitorPass) {
  const app = express();
  app.set("trust proxy", true);
  app.use(session({ secret: "admin-suite-secret", resave: false, saveUninitialized: false }));
  app.use(visitorPass(passes));
  app.get("/reference", userIsVisitor({ scope: "REFERENCE" }), (_req, res) => {
    res.type("text/plain").send("reference");
  });
  const server = await listen(createServer(app));
  return {
    async visit(
      visitor: Visitor,
      client: { ip: string; userAgent: string; referer: string | null },
    ): Promise<void> {
      const headers: Record<string, string> = {
        "user-agent": client.userAgent,
        "x-forwarded-for": client.ip,
      };
      if (client.referer) headers.referer = client.referer;
      const response = await fetch(`${server.url}/reference?vuid=${visitor.uuid}`, { headers });
      if (response.status !== 200) {
        throw new Error(`visit of ${visitor.email} answered ${response.status}`);
      }
    },
    close: () => server.close(),
  };
}

/**
 * A self-service request as a visitor without a link leaves it: a guarded route with
 * `selfService: true` visited without a pass creates it (inactive, no email) and redirects to the
 * form, which is never filled in.
 */
export async function unclaimedRequest(passes: VisitorPass, scope: string): Promise<Visitor> {
  const app = express();
  app.use(session({ secret: "admin-suite-secret", resave: false, saveUninitialized: false }));
  app.use(visitorPass(passes));
  app.get("/early", userIsVisitor({ scope, selfService: true }), (_req, res) => {
    res.send("early");
  });
  const server = await listen(createServer(app));
  try {
    const response = await fetch(`${server.url}/early`, { redirect: "manual" });
    if (response.status !== 302) throw new Error(`self-service answered ${response.status}`);
  } finally {
    await server.close();
  }
  const [request] = await passes.list({ scope, active: false, limit: 1 });
  if (!request?.isUnclaimedRequest) throw new Error("no unclaimed request was created");
  return request;
}

/** Visits of `visitor` logged the way a client refusing cookies leaves them: without a session. */
export async function visitsWithoutSession(
  passes: VisitorPass,
  visitor: Visitor,
  count: number,
): Promise<void> {
  const flow = flowOf(passes, "visitsWithoutSession()");
  const request = {
    method: "GET",
    url: "/reference",
    userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    referer: null,
    ip: "203.0.113.50",
  };
  for (let i = 0; i < count; i++) flow.recordVisit(visitor, request, null, 200);
  await passes.flush();
}
