import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type RequestHandler } from "express";
import session from "express-session";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { userIsVisitor, visitorPass } from "../../src/adapters/express/index.js";
import type { VisitorPass } from "../../src/index.js";
import { openPasses } from "../support/databases.js";
import { Client } from "./client.js";
import { SQLITE } from "./support.js";

/** What is Express's own: `req.visitor` and `req.isVisitor` across apps, sub-apps and the app's own writes. */
describe("express: req.visitor and req.isVisitor", () => {
  let passes: VisitorPass;
  let cleanup: () => Promise<void>;
  let server: Server | null = null;

  beforeEach(async () => {
    ({ passes, cleanup } = await openPasses(SQLITE));
  });
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = null;
    await cleanup();
  });

  async function serve(app: express.Express): Promise<Client> {
    server = createServer(app);
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  const seen: RequestHandler = (req, res) => {
    res.json({ visitor: req.visitor?.uuid ?? null, isVisitor: req.isVisitor });
  };

  function sessions(app: express.Express): void {
    app.use(session({ secret: "express-suite", resave: false, saveUninitialized: false }));
  }

  it("are null and false for an anonymous request, and set for an admitted visitor", async () => {
    const app = express();
    sessions(app);
    app.use(visitorPass(passes));
    app.get("/who", seen);
    const client = await serve(app);
    expect(await (await client.get("/who")).json()).toEqual({ visitor: null, isVisitor: false });
    const visitor = await passes.create({ email: "ginger@example.org", scope: "REF" });
    await client.get(passes.tokenise("/who", visitor));
    expect(await (await client.get("/who")).json()).toEqual({
      visitor: visitor.uuid,
      isVisitor: true,
    });
  });

  it("stay set in the parent app after a sub-app that ran the middleware", async () => {
    const app = express();
    const inner = express();
    sessions(app);
    inner.use(visitorPass(passes));
    inner.get("/inner", (_req, _res, next) => next());
    app.use(inner);
    app.get("/inner", seen);
    const client = await serve(app);
    const visitor = await passes.create({ email: "ginger@example.org", scope: "REF" });
    await client.get(passes.tokenise("/inner", visitor));
    expect(await (await client.get("/inner")).json()).toEqual({
      visitor: visitor.uuid,
      isVisitor: true,
    });
  });

  it("take what the app sets itself, and the guard decides on it", async () => {
    const visitor = await passes.create({ email: "ginger@example.org", scope: "REF" });
    const app = express();
    sessions(app);
    app.use(visitorPass(passes));
    app.use((req, _res, next) => {
      if (req.query.as === "ginger") req.visitor = visitor;
      next();
    });
    app.get("/guarded", userIsVisitor({ scope: "REF", logVisit: false }), seen);
    const client = await serve(app);
    expect((await client.get("/guarded")).status).toBe(403);
    const response = await client.get("/guarded?as=ginger");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ visitor: visitor.uuid, isVisitor: true });
  });

  it("leave requests of an app without visitor-pass alone (no own properties added)", async () => {
    const app = express();
    app.get("/keys", (req, res) => {
      res.json({ own: Object.hasOwn(req, "visitor") || Object.hasOwn(req, "isVisitor") });
    });
    const client = await serve(app);
    expect(await (await client.get("/keys")).json()).toEqual({ own: false });
  });
});
