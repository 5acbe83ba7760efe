import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type RequestHandler } from "express";
import session from "express-session";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { selfService, userIsVisitor, visitorPass } from "../../src/adapters/express/index.js";
import type { VisitorPass } from "../../src/index.js";
import { openPasses } from "../support/databases.js";
import { Client } from "./client.js";
import { SQLITE } from "./support.js";

const seen: RequestHandler = (req, res) => {
  res.json({ visitor: req.visitor?.uuid ?? null, isVisitor: req.isVisitor });
};

/** Fresh passes on SQLite for each test, and `serve(app)` (any number of apps) listening until the test ends. */
function useExpress() {
  const context = {} as { passes: VisitorPass; serve(app: express.Express): Promise<Client> };
  let cleanup: () => Promise<void>;
  const servers: Server[] = [];

  beforeEach(async () => {
    ({ passes: context.passes, cleanup } = await openPasses(SQLITE));
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      // Bodies left unread keep their connections busy: close them all, not only the idle ones.
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await cleanup();
  });
  context.serve = async (app) => {
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  };
  return context;
}

/** What is Express's own: `req.visitor` and `req.isVisitor` across apps, sub-apps and the app's own writes. */
describe("express: req.visitor and req.isVisitor", () => {
  const ctx = useExpress();

  function sessions(app: express.Express): void {
    app.use(session({ secret: "express-suite", resave: false, saveUninitialized: false }));
  }

  it("are null and false for an anonymous request, and set for an admitted visitor", async () => {
    const app = express();
    sessions(app);
    app.use(visitorPass(ctx.passes));
    app.get("/who", seen);
    const client = await ctx.serve(app);
    expect(await (await client.get("/who")).json()).toEqual({ visitor: null, isVisitor: false });
    const visitor = await ctx.passes.create({ email: "ginger@example.org", scope: "REF" });
    await client.get(ctx.passes.tokenise("/who", visitor));
    expect(await (await client.get("/who")).json()).toEqual({
      visitor: visitor.uuid,
      isVisitor: true,
    });
  });

  it("stay set in the parent app after a sub-app that ran the middleware", async () => {
    const app = express();
    const inner = express();
    sessions(app);
    inner.use(visitorPass(ctx.passes));
    inner.get("/inner", (_req, _res, next) => next());
    app.use(inner);
    app.get("/inner", seen);
    const client = await ctx.serve(app);
    const visitor = await ctx.passes.create({ email: "ginger@example.org", scope: "REF" });
    await client.get(ctx.passes.tokenise("/inner", visitor));
    expect(await (await client.get("/inner")).json()).toEqual({
      visitor: visitor.uuid,
      isVisitor: true,
    });
  });

  it("take what the app sets itself, and the guard decides on it", async () => {
    const visitor = await ctx.passes.create({ email: "ginger@example.org", scope: "REF" });
    const app = express();
    sessions(app);
    app.use(visitorPass(ctx.passes));
    app.use((req, _res, next) => {
      if (req.query.as === "ginger") req.visitor = visitor;
      next();
    });
    app.get("/guarded", userIsVisitor({ scope: "REF", logVisit: false }), seen);
    const client = await ctx.serve(app);
    expect((await client.get("/guarded")).status).toBe(403);
    const response = await client.get("/guarded?as=ginger");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ visitor: visitor.uuid, isVisitor: true });
  });

  it("are not seen by another Express app in the process, after a request through visitor-pass", async () => {
    const app = express();
    sessions(app);
    app.use(visitorPass(ctx.passes));
    app.get("/who", seen);
    const client = await ctx.serve(app);
    const visitor = await ctx.passes.create({ email: "ginger@example.org", scope: "REF" });
    await client.get(ctx.passes.tokenise("/who", visitor));
    expect(await (await client.get("/who")).json()).toEqual({
      visitor: visitor.uuid,
      isVisitor: true,
    });

    const plain = express();
    plain.get("/keys", (req, res) => {
      res.json({
        visitorIn: "visitor" in req,
        isVisitorIn: "isVisitor" in req,
        visitor: req.visitor === undefined ? "undefined" : "defined",
      });
    });
    const other = await ctx.serve(plain);
    expect(await (await other.get("/keys")).json()).toEqual({
      visitorIn: false,
      isVisitorIn: false,
      visitor: "undefined",
    });
  });

  it("leave requests of an app without visitor-pass alone (no own properties added)", async () => {
    const app = express();
    app.get("/keys", (req, res) => {
      res.json({ own: Object.hasOwn(req, "visitor") || Object.hasOwn(req, "isVisitor") });
    });
    const client = await ctx.serve(app);
    expect(await (await client.get("/keys")).json()).toEqual({ own: false });
  });
});

/** What Express's visit logs record: the client address as the app resolves it, the final status. */
describe("express: visit logs", () => {
  const ctx = useExpress();

  /** An app with sessions and visitor-pass, `routes` added, and a client holding a visitor. */
  async function visitorClient(
    routes: (app: express.Express) => void,
    configure: (app: express.Express) => void = noop,
  ) {
    const app = express();
    configure(app);
    app.use(session({ secret: "express-logs", resave: false, saveUninitialized: false }));
    app.use(visitorPass(ctx.passes));
    routes(app);
    const client = await ctx.serve(app);
    const visitor = await ctx.passes.create({ email: "ginger@example.org", scope: "REF" });
    expect((await client.get(ctx.passes.tokenise("/start", visitor))).status).toBeLessThan(500);
    return { client, visitor };
  }

  const guarded = userIsVisitor({ scope: "REF" });
  const LOOPBACK = ["127.0.0.1", "::ffff:127.0.0.1"];
  const FORWARDED = { "x-forwarded-for": "203.0.113.7" };

  it("records the socket's address, not X-Forwarded-For, when no proxy is trusted", async () => {
    const { client, visitor } = await visitorClient((app) => app.get("/page", guarded, seen));
    expect((await client.get("/page", { headers: FORWARDED })).status).toBe(200);
    const [log] = await ctx.passes.logs(visitor.uuid);
    expect(LOOPBACK).toContain(log?.remoteAddr);
  });

  it("records the forwarded address when the app trusts its proxy", async () => {
    const { client, visitor } = await visitorClient(
      (app) => app.get("/page", guarded, seen),
      (app) => app.set("trust proxy", "loopback"),
    );
    expect((await client.get("/page", { headers: FORWARDED })).status).toBe(200);
    expect((await ctx.passes.logs(visitor.uuid)).map((log) => log.remoteAddr)).toEqual([
      "203.0.113.7",
    ]);
  });

  it("records the address an app gives req.ip itself", async () => {
    const { client, visitor } = await visitorClient((app) => {
      app.use((req, _res, next) => {
        Object.defineProperty(req, "ip", { value: "198.51.100.9" });
        next();
      });
      app.get("/page", guarded, seen);
    });
    expect((await client.get("/page")).status).toBe(200);
    expect((await ctx.passes.logs(visitor.uuid)).map((log) => log.remoteAddr)).toEqual([
      "198.51.100.9",
    ]);
  });

  it("records the status the response went out with, its headers and session intact", async () => {
    const { client, visitor } = await visitorClient((app) => {
      app.get("/created", guarded, (req, res) => {
        (req.session as unknown as Record<string, unknown>).seen = true;
        res.writeHead(201, { "x-app": "kept" }).end("made");
      });
      app.get("/session", (req, res) => {
        res.json({ seen: (req.session as unknown as Record<string, unknown>).seen ?? false });
      });
      app.get("/missing", guarded, (_req, res) => {
        res.status(404).send("no");
      });
      app.get("/broken", guarded, () => {
        throw new Error("route failed");
      });
      app.use(((_error, _req, res, _next) => {
        res.status(500).send("sorry");
      }) as express.ErrorRequestHandler);
    });
    const created = await client.get("/created");
    expect(created.status).toBe(201);
    expect(created.headers.get("x-app")).toBe("kept");
    // express-session hooks the headers too: what the route put in the session was saved.
    expect(await (await client.get("/session")).json()).toEqual({ seen: true });
    expect((await client.get("/missing")).status).toBe(404);
    expect((await client.get("/broken")).status).toBe(500);
    const logs = await ctx.passes.logs(visitor.uuid);
    expect(logs.map((log) => [log.requestUri, log.statusCode]).reverse()).toEqual([
      ["/created", 201],
      ["/missing", 404],
      ["/broken", 500],
    ]);
  });

  it("logs the visit when visitor-pass runs again after the guard", async () => {
    const { client, visitor } = await visitorClient((app) => {
      app.get("/again", guarded, visitorPass(ctx.passes), seen);
    });
    const response = await client.get("/again");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ visitor: visitor.uuid, isVisitor: true });
    expect((await ctx.passes.logs(visitor.uuid)).map((log) => log.statusCode)).toEqual([200]);
  });

  it("records the status when res.req is another object, before or after the guard", async () => {
    // What Express links itself, an app (or a wrapper around it) may replace.
    const detach: RequestHandler = (_req, res, next) => {
      (res as unknown as { req: unknown }).req = {};
      next();
    };
    const answer: RequestHandler = (_req, res) => {
      res.status(202).send("ok");
    };
    const { client, visitor } = await visitorClient((app) => {
      app.get("/before", detach, guarded, answer);
      app.get("/after", guarded, detach, answer);
    });
    expect((await client.get("/before")).status).toBe(202);
    expect((await client.get("/after")).status).toBe(202);
    const logs = await ctx.passes.logs(visitor.uuid);
    expect(logs.map((log) => [log.requestUri, log.statusCode])).toEqual([
      ["/after", 202],
      ["/before", 202],
    ]);
  });

  it("logs the visits of guards before and after visitor-pass runs again", async () => {
    const { client, visitor } = await visitorClient((app) => {
      app.get("/around", guarded, visitorPass(ctx.passes), guarded, seen);
    });
    expect((await client.get("/around")).status).toBe(200);
    expect((await ctx.passes.logs(visitor.uuid)).map((log) => log.statusCode)).toEqual([200, 200]);
  });

  it("hangs nothing on the request that leads back to it or its response", async () => {
    // Such an object makes V8's scavenger keep and copy much of every request's objects: 4–8 µs
    // of scavenges a request, measured (bench/README.md, "Garbage collection").
    const found: string[] = [];
    const { client } = await visitorClient((app) => {
      app.get("/page", guarded, userIsVisitor({ scope: "REF" }), (req, res) => {
        const key = Object.getOwnPropertySymbols(req).find((symbol) =>
          symbol.description?.startsWith("visitor-pass"),
        );
        expect(key).toBeDefined();
        const state = (req as unknown as Record<symbol, unknown>)[key!];
        found.push(...pathsTo(state, [req, res], "state"));
        res.send("ok");
      });
    });
    expect((await client.get("/page")).status).toBe(200);
    expect(found).toEqual([]);
  });

  it("writes one row per logging guard a request passed", async () => {
    const { client, visitor } = await visitorClient((app) => {
      app.get("/twice", guarded, userIsVisitor({ scope: "REF" }), seen);
    });
    expect((await client.get("/twice")).status).toBe(200);
    expect((await ctx.passes.logs(visitor.uuid)).map((log) => log.statusCode)).toEqual([200, 200]);
  });
});

function noop(): void {}

/** The paths from `root`, through properties and array items, to any of `targets`. */
function pathsTo(root: unknown, targets: unknown[], name: string): string[] {
  const seen = new Set<unknown>();
  const paths: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (targets.includes(value)) {
      paths.push(path);
      return;
    }
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    for (const key of Reflect.ownKeys(value)) {
      const child = Object.getOwnPropertyDescriptor(value, key)?.value;
      walk(child, `${path}.${String(key)}`);
    }
  };
  walk(root, name);
  return paths;
}

/** The self-service form's 16 kB limit when the app parses bodies before the router, as the quick start does. */
describe("express: self-service after the app's own body parsers", () => {
  const ctx = useExpress();
  const GINGER = { firstName: "Ginger", lastName: "Rogers", email: "ginger@example.org" };
  const big = new URLSearchParams({ ...GINGER, padding: "x".repeat(90_000) }).toString();
  const headers = {
    "content-type": "application/x-www-form-urlencoded",
    "sec-fetch-site": "same-origin",
  };

  async function appWithParsers(): Promise<{ client: Client; form: string }> {
    const app = express();
    app.use(express.urlencoded({ limit: "1mb" }));
    app.use(express.json({ limit: "1mb" }));
    app.use(session({ secret: "express-forms", resave: false, saveUninitialized: false }));
    app.use(visitorPass(ctx.passes));
    app.get("/apply", userIsVisitor({ scope: "REF", selfService: true }), seen);
    app.use("/visitors", selfService(ctx.passes));
    const client = await ctx.serve(app);
    const started = await client.get("/apply", { redirect: "manual" });
    await started.arrayBuffer();
    const form = started.headers.get("location") ?? "";
    expect(form).toMatch(/^\/visitors\/self-service\/[0-9a-f-]{36}$/);
    return { client, form };
  }

  it("a 90 kB post already parsed by express.urlencoded() is 413, and the pass stays unclaimed", async () => {
    const { client, form } = await appWithParsers();
    const declared = await client.post(form, { headers, body: big, redirect: "manual" });
    expect(declared.status).toBe(413);
    await declared.arrayBuffer();
    const uuid = form.split("/").pop()!;
    expect(await ctx.passes.get(uuid)).toMatchObject({ isActive: false, email: "" });
  });

  it("so is one sent without Content-Length, judged by the size of the parsed fields; a small one still works", async () => {
    const { client, form } = await appWithParsers();
    const bytes = new TextEncoder().encode(big);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const streamed = await client.post(form, {
      headers,
      body,
      redirect: "manual",
      duplex: "half",
    } as RequestInit as never);
    expect(streamed.status).toBe(413);
    await streamed.arrayBuffer();
    const uuid = form.split("/").pop()!;
    expect(await ctx.passes.get(uuid)).toMatchObject({ isActive: false, email: "" });

    const sent = await client.post(form, {
      headers,
      body: new URLSearchParams(GINGER).toString(),
      redirect: "manual",
    });
    await sent.arrayBuffer();
    expect(sent.status).toBe(303);
  });
});

/** A guard's refusals reach Express's own error handler with the headers they need. */
describe("express: the default error handler", () => {
  it("renders VisitorPassThrottled as a 429 with Retry-After", async () => {
    const { passes, cleanup } = await openPasses(SQLITE, {
      throttle: { selfService: { points: 1, duration: 60 } },
    });
    const app = express();
    app.use(session({ secret: "express-default", resave: false, saveUninitialized: false }));
    app.use(visitorPass(passes));
    app.get("/apply", userIsVisitor({ scope: "REF", selfService: true }), seen);
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const first = await client.get("/apply", { redirect: "manual" });
      await first.arrayBuffer();
      expect(first.status).toBe(302);
      const throttled = await new Client(client.baseUrl).get("/apply", { redirect: "manual" });
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(throttled.headers.get("content-type")).toMatch(/^text\/html/);
      await throttled.arrayBuffer();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await cleanup();
    }
  });
});
