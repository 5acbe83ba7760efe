import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { selfService, userIsVisitor, visitorPass } from "../../src/adapters/fastify/index.js";
import type { VisitorPass } from "../../src/index.js";
import { openPasses } from "../support/databases.js";
import { buildFastifyApp } from "./fastify-harness.js";
import { REFERENCE_SCOPE } from "./routes.js";
import { newPass, SQLITE } from "./support.js";

/** What is Fastify's own in the adapter: plugin metadata, decorations, its error handling. */
describe("fastify plugin", () => {
  const opened: { app?: FastifyInstance; cleanup: () => Promise<void> }[] = [];
  afterEach(async () => {
    for (const { app, cleanup } of opened.splice(0)) {
      await app?.close();
      await cleanup();
    }
  });
  async function passes(): Promise<VisitorPass> {
    const { passes, cleanup } = await openPasses(SQLITE);
    opened.push({ cleanup });
    return passes;
  }
  function track(app: FastifyInstance): FastifyInstance {
    opened.push({ app, cleanup: async () => {} });
    return app;
  }

  it("is a fastify-plugin named visitor-pass that depends on @fastify/session", () => {
    const plugin = visitorPass as unknown as Record<symbol, unknown>;
    expect(plugin[Symbol.for("skip-override")]).toBe(true);
    expect(plugin[Symbol.for("plugin-meta")]).toMatchObject({
      name: "visitor-pass",
      fastify: "5.x",
      dependencies: ["@fastify/session"],
    });
  });

  it("registered without @fastify/session, the app fails at ready() with Fastify's dependency error", async () => {
    const app = track(Fastify({ logger: false }));
    await app.register(fastifyCookie);
    app.register(visitorPass, { passes: await passes() });
    await expect(app.ready()).rejects.toMatchObject({
      code: "FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED",
      message: expect.stringContaining("@fastify/session"),
    });
  });

  it("registered without passes, the app fails at ready() with a setup error", async () => {
    const app = track(Fastify({ logger: false }));
    await app.register(fastifyCookie);
    await app.register(fastifySession, { secret: "x".repeat(32), cookie: { secure: false } });
    app.register(visitorPass, {} as never);
    await expect(app.ready()).rejects.toMatchObject({
      name: "VisitorPassError",
      code: "VISITOR_PASS_SETUP",
    });
  });

  it("decorates every request, in encapsulated child plugins too", async () => {
    const service = await passes();
    const app = track(Fastify({ logger: false }));
    await app.register(fastifyCookie);
    await app.register(fastifySession, { secret: "x".repeat(32), cookie: { secure: false } });
    await app.register(visitorPass, { passes: service });
    await app.register(async (child) => {
      child.get("/child", { preHandler: userIsVisitor({ scope: REFERENCE_SCOPE }) }, (request) => ({
        visitor: request.visitor?.uuid ?? null,
        isVisitor: request.isVisitor,
      }));
      child.get("/child/open", (request) => ({
        visitor: request.visitor,
        isVisitor: request.isVisitor,
      }));
    });
    await app.ready();
    expect(app.hasRequestDecorator("visitor")).toBe(true);
    expect(app.hasRequestDecorator("isVisitor")).toBe(true);

    const anonymous = await app.inject({ url: "/child/open" });
    expect(anonymous.json()).toEqual({ visitor: null, isVisitor: false });

    const visitor = await newPass(service);
    const landing = await app.inject({ url: service.tokenise("/child", visitor) });
    expect(landing.statusCode).toBe(302);
    const cookie = landing.cookies.find((c) => c.name === "sessionId");
    expect(cookie).toBeDefined();
    const admitted = await app.inject({ url: "/child", cookies: { sessionId: cookie!.value } });
    expect(admitted.json()).toEqual({ visitor: visitor.uuid, isVisitor: true });
  });

  it("selfService registers under an app that parses forms itself; the app's parser stays its own", async () => {
    const service = await passes();
    const app = track(Fastify({ logger: false }));
    app.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string" },
      (_request, body, done) => done(null, { parsedBy: "app", raw: body }),
    );
    await app.register(fastifyCookie);
    await app.register(fastifySession, { secret: "x".repeat(32), cookie: { secure: false } });
    await app.register(visitorPass, { passes: service });
    await app.register(selfService, { passes: service, prefix: "/visitors" });
    app.get(
      "/apply",
      { preHandler: userIsVisitor({ scope: REFERENCE_SCOPE, selfService: true }) },
      () => "in",
    );
    app.post("/echo", (request) => request.body);
    await app.ready();

    const form = (await app.inject({ url: "/apply" })).headers.location as string;
    expect(form).toMatch(/^\/visitors\/self-service\//);
    const submitted = await app.inject({
      method: "POST",
      url: form,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "sec-fetch-site": "same-origin",
      },
      payload: "firstName=Ginger&lastName=Rogers&email=ginger%40example.org",
    });
    expect(submitted.statusCode).toBe(303);
    const echoed = await app.inject({
      method: "POST",
      url: "/echo",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "a=1",
    });
    expect(echoed.json()).toEqual({ parsedBy: "app", raw: "a=1" });
  });

  it("VisitorPassThrottled reaches Fastify's default error handler as a 429 with Retry-After", async () => {
    const { passes: service, cleanup } = await openPasses(SQLITE, {
      throttle: { selfService: { points: 1, duration: 60 } },
    });
    opened.push({ cleanup });
    const app = track(await buildFastifyApp(service, { errorHandler: "fastify" }));
    expect((await app.inject({ url: "/apply" })).statusCode).toBe(302);
    const throttled = await app.inject({ url: "/apply" });
    expect(throttled.statusCode).toBe(429);
    expect(Number(throttled.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(throttled.json()).toMatchObject({ statusCode: 429, code: "VISITOR_PASS_THROTTLED" });
  });

  it("a large JSON body to the self-service form is 413 and claims nothing, though the app parses JSON", async () => {
    const service = await passes();
    const app = track(await buildFastifyApp(service));
    const form = (await app.inject({ url: "/apply" })).headers.location as string;
    const posted = await app.inject({
      method: "POST",
      url: form,
      headers: { "content-type": "application/json", "sec-fetch-site": "same-origin" },
      payload: JSON.stringify({
        firstName: "Ginger",
        lastName: "Rogers",
        email: "ginger@example.org",
        padding: "x".repeat(90_000),
      }),
    });
    expect(posted.statusCode).toBe(413);
    expect(await service.get(form.split("/").pop()!)).toMatchObject({ isActive: false, email: "" });
  });

  it("VisitorAccessDenied reaches Fastify's default error handler as a 403 JSON reply", async () => {
    const app = track(await buildFastifyApp(await passes(), { errorHandler: "fastify" }));
    const denied = await app.inject({ url: "/reference" });
    expect(denied.statusCode).toBe(403);
    expect(denied.headers["content-type"]).toMatch(/^application\/json/);
    expect(denied.json()).toEqual({
      statusCode: 403,
      code: "VISITOR_ACCESS_DENIED",
      error: "Forbidden",
      message: "Visitor access denied.",
    });
  });
});
