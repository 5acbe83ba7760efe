import type { AddressInfo } from "node:net";
import express from "express";
import session from "express-session";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userIsVisitor, visitorPass } from "../../src/adapters/express/index.js";
import type { VisitorPass } from "../../src/index.js";
import { DATABASES, openPasses } from "../support/databases.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

/** The same database URL, reached through `port` on this machine. */
function through(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = "127.0.0.1";
  parsed.port = String(port);
  return parsed.toString();
}

const servers = DATABASES.filter((database) => database.name !== "sqlite");

describe.each(servers)("failing closed on $name", (database) => {
  let proxy: TcpProxy;
  let passes: VisitorPass;
  let cleanup: () => Promise<void>;
  let base: string;
  let close: () => void;

  beforeAll(async () => {
    if (!database.url) return;
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    ({ passes, cleanup } = await openPasses({
      ...database,
      url: through(database.url, proxy.port),
    }));
    const app = express();
    app.use(session({ secret: "test", resave: false, saveUninitialized: false }));
    app.use(visitorPass(passes));
    app.get("/public", (_req, res) => res.send("public"));
    app.get("/ref", userIsVisitor({ scope: "REFERENCE_REQUEST" }), (req, res) => {
      res.send(`hello ${req.visitor?.firstName}`);
    });
    app.use(
      (
        error: Error & { status?: number },
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        res.status(error.status ?? 500).json({ error: error.name });
      },
    );
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });

  afterAll(async () => {
    if (!database.url) return;
    close();
    await proxy.restore().catch(() => {});
    await cleanup();
    await proxy.close();
  });

  it.skipIf(!database.url)(
    "answers 503 on guarded routes while the database is away, and recovers",
    async () => {
      const ginger = await passes.create({
        email: "ginger@example.org",
        scope: "REFERENCE_REQUEST",
        firstName: "Ginger",
      });
      const other = await passes.create({ email: "fred@example.org", scope: "REFERENCE_REQUEST" });
      const landing = await fetch(`${base}/ref?vuid=${ginger.uuid}`, { redirect: "manual" });
      expect(landing.status).toBe(302);
      const cookie = landing.headers.get("set-cookie")!.split(";")[0]!;
      expect((await fetch(`${base}/ref`, { headers: { cookie } })).status).toBe(200);

      await proxy.cut();

      const guarded = await fetch(`${base}/ref`, { headers: { cookie } });
      expect(guarded.status).toBe(503);
      expect(await guarded.json()).toEqual({ error: "VisitorPassUnavailable" });
      expect((await fetch(`${base}/public`, { headers: { cookie } })).status).toBe(200);
      const newcomer = await fetch(`${base}/ref?vuid=${other.uuid}`, { redirect: "manual" });
      expect(newcomer.status).toBe(503);
      expect(
        (await fetch(`${base}/public?vuid=${other.uuid}`, { redirect: "manual" })).status,
      ).toBe(200);

      await proxy.restore();

      const back = await fetch(`${base}/ref`, { headers: { cookie } });
      expect(back.status).toBe(200);
      expect(await back.text()).toBe("hello Ginger");
      expect((await passes.get(other.uuid))?.uses).toBe(0);
      expect((await passes.get(ginger.uuid))?.uses).toBe(1);
      // The visit logged as the connection dropped was held, not lost: both visits are there.
      const logs = await passes.logs(ginger.uuid);
      expect(logs.map((log) => log.statusCode)).toEqual([200, 200]);
    },
  );
});
