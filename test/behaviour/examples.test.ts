import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener, serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fastifyExample from "../../examples/fastify/server.js";
import * as fetchExample from "../../examples/fetch/server.js";
import * as honoExample from "../../examples/hono/server.js";
import * as nestjsExample from "../../examples/nestjs/server.js";
import { createVisitorPass, type VisitorPass } from "../../src/index.js";
import { Client } from "./client.js";

interface Started {
  url: string;
  close(): Promise<void>;
}

/** `server`, listening on 127.0.0.1, port 0. */
async function listen(server: Server): Promise<Started> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
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

/** Each example: its name, how it starts, and whether it has the self-service pages. */
const EXAMPLES: [string, (passes: VisitorPass) => Promise<Started>, boolean][] = [
  [
    "fastify",
    async (passes) => {
      const app = await fastifyExample.createApp({ passes, sessionSecret: "x".repeat(32) });
      const url = await app.listen({ port: 0, host: "127.0.0.1" });
      return { url, close: () => app.close() };
    },
    true,
  ],
  [
    "hono",
    async (passes) => {
      const app = honoExample.createApp({ passes, secret: "y".repeat(32) });
      const server = await new Promise<Server>((resolve) => {
        const listening = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
          resolve(listening as Server),
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
    },
    true,
  ],
  [
    "fetch",
    (passes) => {
      const handler = fetchExample.createHandler(passes, "z".repeat(32));
      return listen(createServer(getRequestListener((request) => handler(request))));
    },
    false,
  ],
];

/** The NestJS example on `platform`, listening on 127.0.0.1, port 0. */
async function startNest(passes: VisitorPass, platform: "express" | "fastify"): Promise<Started> {
  const app = await nestjsExample.createApp({ passes, sessionSecret: "n".repeat(32), platform });
  await app.listen(0, "127.0.0.1");
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      app.getHttpServer().closeAllConnections();
      await app.close();
    },
  };
}

EXAMPLES.push(
  ["nestjs on express", (passes) => startNest(passes, "express"), true],
  ["nestjs on fastify", (passes) => startNest(passes, "fastify"), true],
);

const decode = (text: string) => text.replace(/&amp;/g, "&");
const FORM_POST = { "content-type": "application/x-www-form-urlencoded" };

/** Each example app, walked once through its story. */
describe.each(EXAMPLES)("example: %s", (_name, start, hasSelfService) => {
  let passes: VisitorPass;
  let app: Started;
  beforeAll(async () => {
    passes = createVisitorPass({ database: "sqlite::memory:", env: {} });
    await passes.migrate();
    app = await start(passes);
  });
  afterAll(async () => {
    await app?.close();
    await passes?.close();
  });

  it("Fred invites Ginger; her link opens the two-step reference, which ends her visit", async () => {
    const fred = new Client(app.url);
    expect(await (await fred.get("/")).text()).toContain("None yet.");
    const invitation = await (await fred.post("/invite", { headers: FORM_POST })).text();
    const link = decode(/<a href="([^"]*vuid=[^"]*)"/.exec(invitation)?.[1] ?? "");
    expect(link.startsWith(`${app.url}/reference?vuid=`)).toBe(true);

    const ginger = new Client(app.url);
    const form = await ginger.get(link.slice(app.url.length));
    expect(form.status).toBe(200);
    expect(await form.text()).toContain("Hello Ginger, Fred asks you for a reference.");
    const sent = await ginger.post("/reference", {
      headers: FORM_POST,
      body: "text=Fred+is+<reliable>.",
    });
    expect(sent.status).toBe(200);
    expect(await sent.text()).toContain("Thank you.");
    expect((await ginger.get("/reference")).status).toBe(403);

    const home = await (await fred.get("/")).text();
    expect(home).toContain("Fred is &lt;reliable&gt;.");
    expect(home).toContain("Ginger Rogers");
  });

  it.runIf(hasSelfService)(
    "someone without a pass asks for one on the self-service form and gets in by its link",
    async () => {
      const visitor = new Client(app.url);
      const form = await visitor.get("/early-access");
      expect(form.status).toBe(200);
      expect(form.url).toMatch(/\/visitors\/self-service\/[0-9a-f-]{36}$/);
      const sent = await visitor.post(new URL(form.url).pathname, {
        headers: { ...FORM_POST, "sec-fetch-site": "same-origin" },
        body: "firstName=Vera&lastName=Visit&email=vera%40example.org",
      });
      expect(sent.status).toBe(200);
      expect(sent.url).toMatch(/\/visitors\/self-service\/sent$/);

      const outbox = await (await visitor.get("/outbox")).text();
      const link = decode(/To vera@example\.org: <a href="([^"]+)"/.exec(outbox)?.[1] ?? "");
      expect(link).toMatch(/^\/early-access\?vuid=/);
      const welcome = await visitor.get(link);
      expect(welcome.status).toBe(200);
      expect(await welcome.text()).toContain("Welcome, Vera Visit.");
    },
  );
});
