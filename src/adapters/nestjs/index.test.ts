import "reflect-metadata";
import type { AddressInfo } from "node:net";
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import {
  Controller,
  Get,
  HttpCode,
  type INestApplication,
  Inject,
  Module,
  Post,
  Req,
} from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { ExpressAdapter } from "@nestjs/platform-express";
import { FastifyAdapter, type NestFastifyApplication } from "@nestjs/platform-fastify";
import express from "express";
import session from "express-session";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VisitorPassConfigError, VisitorPassError } from "../../core/errors.js";
import { createVisitorPass, type Visitor, type VisitorPass } from "../../index.js";
import { MemoryStore } from "../../store/memory/memory-store.js";
import {
  CurrentVisitor,
  clearVisitor,
  UserIsVisitor,
  VISITOR_PASS,
  VisitorPassModule,
} from "./index.js";

const SCOPE = "REFERENCE_REQUEST";

let passes: VisitorPass;
const apps: INestApplication[] = [];

beforeEach(async () => {
  passes = createVisitorPass({ store: new MemoryStore(), env: {}, landingRedirect: false });
  await passes.migrate();
});

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  await passes.close();
});

@Controller()
class ReferenceController {
  constructor(@Inject(VISITOR_PASS) readonly injected: VisitorPass) {}

  @Get("reference")
  @UserIsVisitor({ scope: SCOPE })
  reference(@CurrentVisitor() visitor: Visitor | null) {
    return { name: visitor?.fullName ?? null, injected: this.injected === passes };
  }

  @Get("public")
  public(@CurrentVisitor() visitor: Visitor | null) {
    return { visitor: visitor?.uuid ?? null };
  }

  @Post("finish")
  @HttpCode(200)
  finish(@Req() request: object) {
    clearVisitor(request);
    return { done: true };
  }
}

@Controller()
class BareController {
  @Get("reference")
  @UserIsVisitor({ scope: SCOPE })
  reference() {
    return "never";
  }

  @Post("finish")
  finish(@Req() request: object) {
    clearVisitor(request);
    return "never";
  }
}

type Platform = "express" | "fastify";

/** Starts a Nest app over `imports` on `platform` (session first), listening on port 0. */
async function start(
  platform: Platform,
  imports: unknown[],
  controllers: unknown[] = [ReferenceController],
): Promise<string> {
  @Module({ imports: imports as never[], controllers: controllers as never[] })
  class AppModule {}
  let app: INestApplication;
  if (platform === "express") {
    app = await NestFactory.create(AppModule, new ExpressAdapter(express()), {
      logger: false,
      abortOnError: false,
    });
    app.use(session({ secret: "unit-test-secret", resave: false, saveUninitialized: false }));
  } else {
    const nest = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
      logger: false,
      abortOnError: false,
    });
    await nest.register(fastifyCookie);
    await nest.register(fastifySession, {
      secret: "unit-test-secret-of-at-least-32-characters",
      cookie: { secure: false },
      saveUninitialized: false,
    });
    app = nest;
  }
  apps.push(app);
  await app.listen(0, "127.0.0.1");
  const { port } = app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

function newPass() {
  return passes.create({
    firstName: "Ginger",
    lastName: "Rogers",
    email: "ginger@example.com",
    scope: SCOPE,
  });
}

describe("VisitorPassModule.forRoot", () => {
  it("without passes throws a setup error naming createVisitorPass()", () => {
    for (const options of [undefined, {}, { passes: {} }]) {
      expect(() => VisitorPassModule.forRoot(options as never)).toThrow(VisitorPassError);
      expect(() => VisitorPassModule.forRoot(options as never)).toThrow(
        /VisitorPassModule\.forRoot\(\).*createVisitorPass\(\)/,
      );
    }
  });

  it("names a bad option", () => {
    expect(() => VisitorPassModule.forRoot({ passes, selfService: "yes" as never })).toThrow(
      VisitorPassConfigError,
    );
    expect(() => VisitorPassModule.forRoot({ passes, isAuthenticated: 1 as never })).toThrow(
      /isAuthenticated/,
    );
    expect(() =>
      VisitorPassModule.forRoot({ passes, admin: { authorize: () => true } as never }),
    ).toThrow(/admin\.path/);
  });

  it.each(["express", "fastify"] as const)(
    "an admin without authorize fails the start on %s, naming it",
    async (platform) => {
      await expect(
        start(platform, [
          VisitorPassModule.forRoot({ passes, admin: { path: "/admin" } as never }),
        ]),
      ).rejects.toThrow(/authorize/);
    },
  );
});

describe("VisitorPassModule.forRootAsync", () => {
  it("without useFactory throws, naming it", () => {
    expect(() => VisitorPassModule.forRootAsync({} as never)).toThrow(VisitorPassConfigError);
    expect(() => VisitorPassModule.forRootAsync({} as never)).toThrow(/useFactory/);
  });

  it("a factory without passes fails the start, naming forRootAsync()", async () => {
    await expect(
      start("express", [VisitorPassModule.forRootAsync({ useFactory: async () => ({}) as never })]),
    ).rejects.toThrow(/VisitorPassModule\.forRootAsync\(\).*createVisitorPass\(\)/);
  });

  it.each(["express", "fastify"] as const)(
    "admits, injects and clears with options from a factory on %s",
    async (platform) => {
      const url = await start(platform, [
        VisitorPassModule.forRootAsync({ useFactory: async () => ({ passes }) }),
      ]);
      const visitor = await newPass();
      const landing = await fetch(`${url}/reference?vuid=${visitor.uuid}`);
      expect(landing.status).toBe(200);
      expect(await landing.json()).toEqual({ name: "Ginger Rogers", injected: true });
      const cookie = landing.headers.getSetCookie()[0]!.split(";")[0]!;
      const again = await fetch(`${url}/reference`, { headers: { cookie } });
      expect(await again.json()).toEqual({ name: "Ginger Rogers", injected: true });
      const finish = await fetch(`${url}/finish`, { method: "POST", headers: { cookie } });
      expect(finish.status).toBe(200);
      expect((await fetch(`${url}/reference`, { headers: { cookie } })).status).toBe(403);
    },
  );
});

describe("refusals through Nest's default exception filter", () => {
  it.each(["express", "fastify"] as const)(
    "a request without a pass gets a 403 JSON body naming VisitorAccessDenied on %s",
    async (platform) => {
      const url = await start(platform, [VisitorPassModule.forRoot({ passes })]);
      const denied = await fetch(`${url}/reference`);
      expect(denied.status).toBe(403);
      expect(await denied.json()).toEqual({
        statusCode: 403,
        error: "VisitorAccessDenied",
        code: "VISITOR_ACCESS_DENIED",
        message: expect.any(String),
      });
      expect(await (await fetch(`${url}/public`)).json()).toEqual({ visitor: null });
    },
  );
});

describe("UserIsVisitor", () => {
  it("with an empty scope throws where it is written", () => {
    expect(() => UserIsVisitor({ scope: "" })).toThrow(VisitorPassConfigError);
    expect(() => UserIsVisitor({ scope: "*", selfService: true })).toThrow(/self-service/);
  });

  it.each(["express", "fastify"] as const)(
    "without the module, guarded routes and clearVisitor() answer 500 on %s",
    async (platform) => {
      const url = await start(platform, [], [BareController]);
      const response = await fetch(`${url}/reference`);
      expect(response.status).toBe(500);
      // Nest's default filter hides an unknown error's message: the log has it.
      const finish = await fetch(`${url}/finish`, { method: "POST" });
      expect(finish.status).toBe(500);
    },
  );

  it("the setup errors name the module", async () => {
    const { VisitorPassGuard } = await import("./index.js");
    const guard = new VisitorPassGuard({ scope: SCOPE });
    const context = {
      getType: () => "http",
      switchToHttp: () => ({ getRequest: () => ({}), getResponse: () => ({}) }),
    };
    await expect(guard.canActivate(context as never)).rejects.toThrow(
      /VisitorPassModule\.forRoot\(\{ passes \}\)/,
    );
    expect(() => clearVisitor({})).toThrow(/clearVisitor\(\) needs VisitorPassModule\.forRoot/);
    const rpc = { getType: () => "rpc" };
    await expect(guard.canActivate(rpc as never)).rejects.toThrow(/HTTP routes/);
  });
});

describe("the admin and self-service pages as module options", () => {
  it.each(["express", "fastify"] as const)(
    "serve the admin at its path to whom authorize admits, on %s",
    async (platform) => {
      const url = await start(platform, [
        VisitorPassModule.forRoot<{ headers: Record<string, unknown> }>({
          passes,
          admin: {
            path: "/staff/visitors",
            authorize: (request) => request.headers["x-staff"] === "yes",
          },
        }),
      ]);
      await newPass();
      const page = await fetch(`${url}/staff/visitors`, { headers: { "x-staff": "yes" } });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await page.text()).toContain("ginger@example.com");
      expect((await fetch(`${url}/staff/visitors`)).status).toBe(403);
    },
  );

  it.each(["express", "fastify"] as const)(
    "serve the self-service pages at the path given, on %s",
    async (platform) => {
      const url = await start(platform, [
        VisitorPassModule.forRoot({ passes, selfService: { path: "/apply-here" } }),
      ]);
      const sent = await fetch(`${url}/apply-here/self-service/sent`);
      expect(sent.status).toBe(200);
      expect(sent.headers.get("content-type")).toMatch(/^text\/html/);
      expect((await fetch(`${url}/visitors/self-service/sent`)).status).toBe(404);
    },
  );
});

describe("the platform", () => {
  it("is one of Express and Fastify, in an HTTP application", async () => {
    const mounting = { passes, isAuthenticated: undefined, selfService: null, admin: null };
    const without = new VisitorPassModule(mounting, {} as never);
    await expect(without.configure(undefined as never)).rejects.toThrow(/NestFactory\.create\(\)/);
    const koa = new VisitorPassModule(mounting, { httpAdapter: { getType: () => "koa" } } as never);
    await expect(koa.configure(undefined as never)).rejects.toThrow(
      /Express and Fastify platforms, not on "koa"/,
    );
  });
});
