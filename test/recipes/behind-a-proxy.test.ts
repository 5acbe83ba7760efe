// docs/recipes/behind-a-proxy.md: the recipe's apps, on 127.0.0.1, receiving what a proxy that
// ends TLS forwards (X-Forwarded-Proto: https, X-Forwarded-For: the visitor's address).
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp as createExpressApp } from "../../examples/recipes/behind-a-proxy-express.js";
import { createApp as createHonoApp } from "../../examples/recipes/behind-a-proxy-hono.js";
import { createVisitorPass, type VisitorPass } from "../../src/index.js";
import { type Listening, listen } from "./support.js";

const VISITOR_ADDRESS = "203.0.113.7";
const FORWARDED = { "x-forwarded-proto": "https", "x-forwarded-for": VISITOR_ADDRESS };

/** `name=value` of a Set-Cookie header, for the next request's Cookie header. */
const cookiePair = (setCookie: string) => setCookie.split(";")[0]!;

async function listenHono(app: ReturnType<typeof createHonoApp>): Promise<Listening> {
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(started as Server),
    ) as Server;
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("recipe: behind a proxy", () => {
  let passes: VisitorPass;
  let express: Listening;
  let hono: Listening;

  beforeAll(async () => {
    passes = createVisitorPass({ database: "sqlite::memory:", env: {} });
    await passes.migrate();
    express = await listen(createExpressApp(passes, "p".repeat(32)));
    hono = await listenHono(createHonoApp(passes, "h".repeat(32)));
  });
  afterAll(async () => {
    await express.close();
    await hono.close();
    await passes.close();
  });

  const newPass = () =>
    passes.create({ email: "ginger@example.org", firstName: "Ginger", scope: "REFERENCE_REQUEST" });

  it("Express: the session cookie is Secure and the visit is logged with the forwarded address", async () => {
    const visitor = await newPass();
    const landing = await fetch(`${express.url}/reference?vuid=${visitor.uuid}`, {
      headers: FORWARDED,
      redirect: "manual",
    });
    expect(landing.status).toBe(302);
    const [cookie] = landing.headers.getSetCookie();
    expect(cookie).toMatch(/^connect\.sid=/);
    expect(cookie).toMatch(/; Secure/i);

    const page = await fetch(`${express.url}/reference`, {
      headers: { ...FORWARDED, cookie: cookiePair(cookie!) },
    });
    expect(await page.text()).toBe("Hello Ginger");
    await passes.flush();
    const logs = await passes.logs(visitor.uuid);
    expect(logs.map((log) => log.remoteAddr)).toEqual([VISITOR_ADDRESS]);
  });

  it("Express: a request that did not come through the proxy over https gets no cookie", async () => {
    const visitor = await newPass();
    const landing = await fetch(`${express.url}/reference?vuid=${visitor.uuid}`, {
      redirect: "manual",
    });
    expect(landing.headers.getSetCookie()).toEqual([]);
  });

  it("Hono with secure: true: the cookie is __Host- and Secure on an http URL", async () => {
    const visitor = await newPass();
    const landing = await fetch(`${hono.url}/reference?vuid=${visitor.uuid}`, {
      headers: FORWARDED,
      redirect: "manual",
    });
    expect(landing.status).toBe(302);
    const [cookie] = landing.headers.getSetCookie();
    expect(cookie).toMatch(/^__Host-visitor_pass=/);
    expect(cookie).toMatch(/; Secure/i);
    const page = await fetch(`${hono.url}/reference`, {
      headers: { ...FORWARDED, cookie: cookiePair(cookie!) },
    });
    expect(await page.text()).toBe("Hello Ginger");
    await passes.flush();
    // What the recipe says the Hono adapter lacks: it logs the socket's address, the proxy's.
    const logs = await passes.logs(visitor.uuid);
    expect(logs.map((log) => log.remoteAddr)).toEqual(["127.0.0.1"]);
  });
});
