/**
 * A small app for the shutdown test, run as its own process: FRAMEWORK (express, fastify or
 * hono), DATABASE (a database URL), TABLE_PREFIX, CLOSE_TIMEOUT (ms). `GET /guarded` is a
 * guarded page whose visits are logged; `GET /stuck` never answers. It closes the way the
 * examples do: `handleSignals(() => closeGracefully(server, passes))`. Prints "READY <port>".
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import { serve } from "@hono/node-server";
import express from "express";
import session from "express-session";
import Fastify from "fastify";
import { Hono } from "hono";
import * as forExpress from "../../src/adapters/express/index.js";
import * as forFastify from "../../src/adapters/fastify/index.js";
import * as forHono from "../../src/adapters/hono/index.js";
import { closeGracefully, createVisitorPass, handleSignals } from "../../src/index.js";

const SCOPE = "SHUTDOWN";
const SECRET = "shutdown-test-secret-of-32-characters-at-least";
const env = process.env;
const timeout = Number(env.CLOSE_TIMEOUT ?? 5000);

const passes = createVisitorPass({
  database: env.DATABASE!,
  tablePrefix: env.TABLE_PREFIX!,
  env: {},
});

/** A little asynchronous work, so that requests are in flight when the signal comes. */
const work = () => new Promise((resolve) => setTimeout(resolve, 1));

async function start(): Promise<number> {
  switch (env.FRAMEWORK) {
    case "express": {
      const app = express();
      app.use(session({ secret: SECRET, resave: false, saveUninitialized: false }));
      app.use(forExpress.visitorPass(passes));
      app.get("/guarded", forExpress.userIsVisitor({ scope: SCOPE }), async (_req, res) => {
        await work();
        res.type("text/plain").send("ok");
      });
      app.get("/stuck", () => {});
      const server: Server = await new Promise((resolve) => {
        const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
      });
      handleSignals(() => closeGracefully(server, passes, { timeout }));
      return (server.address() as AddressInfo).port;
    }
    case "fastify": {
      const app = Fastify();
      await app.register(fastifyCookie);
      await app.register(fastifySession, {
        secret: SECRET,
        saveUninitialized: false,
        cookie: { secure: false },
      });
      await app.register(forFastify.visitorPass, { passes });
      app.get(
        "/guarded",
        { preHandler: forFastify.userIsVisitor({ scope: SCOPE }) },
        async (_request, reply) => {
          await work();
          return reply.type("text/plain").send("ok");
        },
      );
      app.get("/stuck", () => new Promise(() => {}));
      await app.listen({ port: 0, host: "127.0.0.1" });
      forFastify.handleSignals(() => forFastify.closeGracefully(app, passes, { timeout }));
      return (app.server.address() as AddressInfo).port;
    }
    case "hono": {
      const app = new Hono();
      app.use(forHono.visitorPass(passes, { secret: SECRET }));
      app.get("/guarded", forHono.userIsVisitor({ scope: SCOPE }), async (c) => {
        await work();
        return c.text("ok");
      });
      app.get("/stuck", () => new Promise<Response>(() => {}));
      const server = await new Promise<Server>((resolve) => {
        const listening = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
          resolve(listening as Server),
        );
      });
      forHono.handleSignals(() => forHono.closeGracefully(server, passes, { timeout }));
      return (server.address() as AddressInfo).port;
    }
    default:
      throw new Error(`FRAMEWORK=${env.FRAMEWORK} is not express, fastify or hono`);
  }
}

console.log(`READY ${await start()}`);
