import "reflect-metadata";
import type { AddressInfo } from "node:net";
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import {
  All,
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  Header,
  HttpCode,
  HttpException,
  type INestApplication,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  Post,
  Req,
  Res,
} from "@nestjs/common";
import { type AbstractHttpAdapter, NestFactory } from "@nestjs/core";
import { ExpressAdapter } from "@nestjs/platform-express";
import { FastifyAdapter, type NestFastifyApplication } from "@nestjs/platform-fastify";
import express from "express";
import session from "express-session";
import type { FastifyInstance } from "fastify";
import {
  CurrentVisitor,
  clearVisitor,
  UserIsVisitor,
  VisitorPassModule,
} from "../../src/adapters/nestjs/index.js";
import { SCOPE_ANY, type Visitor, type VisitorPass, VisitorPassError } from "../../src/index.js";
import type { FrameworkHarness, HarnessOptions, RunningApp } from "./harness.js";
import {
  APP_COOKIE_MAX_AGE,
  OWN_CACHE_CONTROL,
  ownReference,
  REFERENCE_SCOPE,
  SELF_SERVICE_PATH,
} from "./routes.js";

/** The request as either platform gives it to a handler (`@Req()`). */
interface AppRequest {
  visitor: Visitor | null;
  isVisitor: boolean;
  headers: Record<string, string | string[] | undefined>;
  /** express-session's plain object, or @fastify/session's with `get` / `set`. */
  session?: Record<string, unknown> & {
    get?: (key: string) => unknown;
    set?: (key: string, value: unknown) => void;
  };
  /** What an app middleware (hook) mounted after the visitor middleware saw of the URL. */
  seen?: { originalUrl: string; url: string; query: unknown } | null;
}

/** Express's `res` and Fastify's `reply` both have `header(name, value)`. */
interface AppResponse {
  header(name: string, value: string): unknown;
}

function read(request: AppRequest, key: string): unknown {
  const data = request.session;
  if (!data) return undefined;
  return typeof data.get === "function" ? data.get(key) : data[key];
}

function write(request: AppRequest, key: string, value: unknown): void {
  const data = request.session;
  if (!data) return;
  if (typeof data.set === "function") data.set(key, value);
  else data[key] = value;
}

const isAuthenticated = (request: AppRequest) => Boolean(read(request, "user"));

function describeVisitor(request: AppRequest, visitor: Visitor | null = request.visitor) {
  return {
    visitor: visitor?.uuid ?? null,
    isVisitor: request.isVisitor ?? false,
    fullName: visitor?.fullName ?? null,
  };
}

@Controller()
class PublicController {
  @Get("/")
  @Header("Content-Type", "text/plain")
  home() {
    return "home";
  }

  @Get("/public")
  @Header("Content-Type", "text/plain")
  public() {
    return "public";
  }

  @Get("/whoami")
  whoami(@Req() request: AppRequest) {
    const { visitor, isVisitor } = describeVisitor(request);
    return { visitor, isVisitor };
  }

  @Post("/login")
  @HttpCode(200)
  @Header("Content-Type", "text/plain")
  login(@Req() request: AppRequest) {
    write(request, "user", "fred");
    return "ok";
  }

  @Get("/anon-data")
  @Header("Content-Type", "text/plain")
  anonData(@Req() request: AppRequest) {
    write(request, "cart", "kept");
    return "stored";
  }

  @Get("/cart")
  cart(@Req() request: AppRequest) {
    return { cart: read(request, "cart") ?? null };
  }

  @All("/seen-url")
  @HttpCode(200)
  seenUrl(@Req() request: AppRequest, @Res({ passthrough: true }) response: AppResponse) {
    response.header("x-seen-url", request.seen?.originalUrl ?? "");
    return request.seen ?? null;
  }
}

@Controller("reference")
@UserIsVisitor({ scope: REFERENCE_SCOPE })
class ReferenceController {
  @Get()
  form(@Req() request: AppRequest, @CurrentVisitor() visitor: Visitor | null) {
    return describeVisitor(request, visitor);
  }

  @Post()
  @HttpCode(200)
  submit(@Req() request: AppRequest) {
    return describeVisitor(request);
  }

  @Post("finish")
  @HttpCode(200)
  @Header("Content-Type", "text/plain")
  finish(@Req() request: AppRequest) {
    clearVisitor(request);
    return "done";
  }
}

@Controller()
class GuardedController {
  @Get("/any")
  @UserIsVisitor({ scope: SCOPE_ANY })
  any(@Req() request: AppRequest) {
    return describeVisitor(request);
  }

  @Get("/staff")
  @UserIsVisitor<AppRequest>({
    scope: REFERENCE_SCOPE,
    bypass: (request) => request.headers["x-staff"] === "yes",
  })
  staff(@Req() request: AppRequest) {
    return describeVisitor(request);
  }

  @Get("/nolog")
  @UserIsVisitor({ scope: REFERENCE_SCOPE, logVisit: false })
  nolog(@Req() request: AppRequest) {
    return describeVisitor(request);
  }

  @Get("/apply")
  @UserIsVisitor({ scope: REFERENCE_SCOPE, selfService: true })
  apply(@Req() request: AppRequest) {
    return describeVisitor(request);
  }

  @Get("/references/:id")
  @UserIsVisitor({ scope: REFERENCE_SCOPE, match: ownReference })
  ownReference(@Req() request: AppRequest) {
    return describeVisitor(request);
  }

  @Get("/teapot")
  @HttpCode(418)
  @UserIsVisitor({ scope: REFERENCE_SCOPE })
  teapot(@Req() request: AppRequest) {
    return describeVisitor(request);
  }

  @Get("/own-cache")
  @Header("Cache-Control", OWN_CACHE_CONTROL)
  @UserIsVisitor({ scope: REFERENCE_SCOPE })
  ownCache(@Req() request: AppRequest) {
    return describeVisitor(request);
  }
}

/** Renders every error as the suite's JSON; a package refusal by the package error it carries. */
@Catch()
class SuiteErrorFilter implements ExceptionFilter {
  constructor(private readonly adapter: AbstractHttpAdapter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const err = exception as Error & { status?: unknown; statusCode?: unknown; code?: unknown };
    const shown = (
      exception instanceof HttpException && exception.cause instanceof VisitorPassError
        ? exception.cause
        : err
    ) as typeof err;
    const status =
      exception instanceof HttpException
        ? exception.getStatus()
        : typeof err?.status === "number"
          ? err.status
          : typeof err?.statusCode === "number"
            ? err.statusCode
            : 500;
    this.adapter.reply(
      host.switchToHttp().getResponse(),
      {
        error: shown?.name ?? "Error",
        status,
        code: shown?.code ?? null,
        message: shown?.message ?? null,
        cause: shown?.cause instanceof Error ? shown.cause.message : null,
      },
      status,
    );
  }
}

type Platform = "express" | "fastify";

function appModule(passes: VisitorPass, options: HarnessOptions, platform: Platform) {
  const setup = options.setup ?? "standard";
  const imports =
    setup === "guard-without-middleware"
      ? []
      : [
          VisitorPassModule.forRoot<AppRequest>({
            passes,
            isAuthenticated,
            selfService: { ...options.selfService, path: SELF_SERVICE_PATH },
          }),
        ];

  @Module({
    imports,
    controllers: [PublicController, ReferenceController, GuardedController],
  })
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer) {
      // An app middleware mounted after the visitor middleware, as a request logger would be (on
      // the controller's routes, which Nest mounts by path: `req.url` stays whole). On Fastify,
      // Nest middleware runs before any plugin's hook: there it is a hook (see `startNest`).
      if (platform !== "express") return;
      consumer
        .apply((req: express.Request & AppRequest, _res: unknown, next: () => void) => {
          req.seen = { originalUrl: req.originalUrl, url: req.url, query: req.query };
          next();
        })
        .forRoutes(PublicController);
    }
  }
  return AppModule;
}

const FASTIFY_SESSION_COOKIE = "sessionId";
const SESSION_SECRET = "behaviour-suite-secret-at-least-32-characters";

async function startNest(
  platform: Platform,
  passes: VisitorPass,
  options: HarnessOptions,
): Promise<RunningApp> {
  const setup = options.setup ?? "standard";
  if (setup === "split" || setup === "session-without-request") {
    throw new Error(`NestJS has one VisitorPassModule: no "${setup}" setup`);
  }
  const module = appModule(passes, options, platform);
  let app: INestApplication;
  let storedSessions: () => string;
  if (platform === "express") {
    const store = new session.MemoryStore();
    const nest = await NestFactory.create(module, new ExpressAdapter(express()), { logger: false });
    if (setup !== "no-session") {
      nest.use(
        session({
          store,
          secret: "behaviour-suite-secret",
          resave: false,
          saveUninitialized: false,
          cookie: { maxAge: APP_COOKIE_MAX_AGE * 1000 },
        }),
      );
    }
    storedSessions = () =>
      JSON.stringify((store as unknown as { sessions: Record<string, string> }).sessions);
    app = nest;
  } else {
    const sessions = new Map<string, unknown>();
    const nest = await NestFactory.create<NestFastifyApplication>(
      module,
      new FastifyAdapter({ logger: false }),
      { logger: false },
    );
    if (setup !== "no-session") {
      await nest.register(fastifyCookie);
      await nest.register(fastifySession, {
        secret: SESSION_SECRET,
        cookieName: FASTIFY_SESSION_COOKIE,
        saveUninitialized: false,
        cookie: { secure: false, maxAge: APP_COOKIE_MAX_AGE * 1000 },
        store: new fastifySession.MemoryStore(sessions as Map<string, never>),
      });
    }
    storedSessions = () => JSON.stringify([...sessions]);
    app = nest;
  }
  app.useGlobalFilters(new SuiteErrorFilter(app.getHttpAdapter() as AbstractHttpAdapter));
  try {
    await app.init();
    if (platform === "fastify") {
      const instance = app.getHttpAdapter().getInstance() as FastifyInstance;
      instance.addHook("onRequest", async (request) => {
        (request as unknown as AppRequest).seen = {
          originalUrl: request.originalUrl,
          url: request.url,
          query: request.query,
        };
      });
    }
    await app.listen(0, "127.0.0.1");
  } catch (error) {
    await app.close().catch(() => {});
    throw error;
  }
  const server = app.getHttpServer() as import("node:http").Server;
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sessionCookie: platform === "express" ? "connect.sid" : FASTIFY_SESSION_COOKIE,
    sessionIdOf(cookieValue) {
      let raw: string;
      try {
        raw = decodeURIComponent(cookieValue);
      } catch {
        return null;
      }
      if (platform === "express") {
        if (!raw.startsWith("s:")) return null;
        const dot = raw.lastIndexOf(".");
        return dot > 2 ? raw.slice(2, dot) : null;
      }
      const dot = raw.lastIndexOf(".");
      return dot > 0 ? raw.slice(0, dot) : null;
    },
    storedSessions,
    close: async () => {
      server.closeAllConnections();
      await app.close();
    },
  };
}

export const nestjsExpressHarness: FrameworkHarness = {
  name: "nestjs-express",
  capabilities: {
    serverSession: true,
    splitMiddleware: false,
    guardMiddleware: true,
    missingSession: "request",
    normalisesTargets: false,
    sessionPackage: "express-session",
  },
  start: (passes, options = {}) => startNest("express", passes, options),
  guard(options) {
    return UserIsVisitor(options);
  },
};

export const nestjsFastifyHarness: FrameworkHarness = {
  name: "nestjs-fastify",
  capabilities: {
    serverSession: true,
    splitMiddleware: false,
    guardMiddleware: true,
    missingSession: "startup",
    normalisesTargets: false,
    sessionPackage: "@fastify/session",
  },
  start: (passes, options = {}) => startNest("fastify", passes, options),
  guard(options) {
    return UserIsVisitor(options);
  },
};
