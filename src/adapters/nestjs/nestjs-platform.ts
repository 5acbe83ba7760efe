import type { GuardOptions } from "../../core/guard.js";
import type { VisitorPass } from "../../core/visitor-pass.js";
import type { SelfServiceOptions } from "../../features/self-service/self-service.js";

/** The HTTP platform a Nest app runs on, as `HttpAdapterHost#httpAdapter.getType()` names it. */
export type PlatformName = "express" | "fastify";

/** What the module mounts on the platform's own instance. */
export interface Mounting {
  passes: VisitorPass;
  isAuthenticated: ((request: never) => boolean) | undefined;
  selfService: (SelfServiceOptions & { path: string }) | null;
  admin: (Record<string, unknown> & { path: string; authorize: unknown }) | null;
}

/** How a guarded request went: on to the handler, or already answered (a redirect). */
export type GuardResult = "next" | "answered";

/**
 * The platform adapter's public pieces, as the Nest adapter uses them: `mount` registers the
 * visitor middleware (plugin), the self-service and admin pages; `guard` runs the platform's
 * `userIsVisitor` on a request and says how it went, rejecting with its error when it refused.
 */
export interface Platform {
  readonly name: PlatformName;
  mount(instance: unknown, mounting: Mounting): Promise<void>;
  guard(
    options: GuardOptions<never>,
  ): (request: unknown, response: unknown) => Promise<GuardResult>;
  clear(request: unknown): void;
}

/** Set on each request the module's middleware saw: the platform that runs it. */
export const PLATFORM = Symbol.for("visitor-pass.nestjs.platform");

const loading = new Map<PlatformName, Promise<Platform>>();

/**
 * The platform adapter for `name`, imported on first use: an app on Fastify need not install
 * Express, nor one on Express Fastify.
 */
export function loadPlatform(name: PlatformName): Promise<Platform> {
  let platform = loading.get(name);
  if (!platform) {
    platform = name === "express" ? expressPlatform() : fastifyPlatform();
    loading.set(name, platform);
  }
  return platform;
}

async function expressPlatform(): Promise<Platform> {
  const express = await import("../express/index.js");
  type Req = import("express").Request;
  type Res = import("express").Response;
  type App = import("express").Express;
  const platform: Platform = {
    name: "express",
    async mount(instance, { passes, isAuthenticated, selfService, admin }) {
      const app = instance as App;
      const middleware = express.visitorPass(passes, {
        isAuthenticated: isAuthenticated as ((req: Req) => boolean) | undefined,
      });
      app.use((req: Req, res: Res, next: (error?: unknown) => void) => {
        (req as Req & { [PLATFORM]?: Platform })[PLATFORM] = platform;
        middleware(req, res, next);
      });
      if (selfService) {
        const { path, ...options } = selfService;
        app.use(path, express.selfService(passes, options));
      }
      if (admin) {
        const { path, ...options } = admin;
        app.use(
          path,
          express.visitorAdmin(
            passes,
            options as import("../express/index.js").ExpressAdminOptions,
          ),
        );
      }
    },
    guard(options) {
      const middleware = express.userIsVisitor(options as GuardOptions<Req>);
      return (request, response) =>
        new Promise<GuardResult>((resolve, reject) => {
          const res = response as Res;
          // The guard either calls `next` (admitted, or refused with its error) or answers the
          // request itself (the redirect to the self-service form).
          const answered = () => {
            res.off("finish", answered);
            res.off("close", answered);
            resolve("answered");
          };
          res.once("finish", answered);
          res.once("close", answered);
          middleware(request as Req, res, (error?: unknown) => {
            res.off("finish", answered);
            res.off("close", answered);
            if (error) reject(error);
            else resolve("next");
          });
        });
    },
    clear(request) {
      express.clearVisitor(request as Req);
    },
  };
  return platform;
}

async function fastifyPlatform(): Promise<Platform> {
  const fastify = await import("../fastify/index.js");
  type Request = import("fastify").FastifyRequest;
  type Reply = import("fastify").FastifyReply;
  type Instance = import("fastify").FastifyInstance;
  const platform: Platform = {
    name: "fastify",
    async mount(instance, { passes, isAuthenticated, selfService, admin }) {
      const app = instance as Instance;
      app.decorateRequest(PLATFORM, null);
      app.addHook("onRequest", async (request) => {
        (request as Request & { [PLATFORM]?: Platform })[PLATFORM] = platform;
      });
      await app.register(fastify.visitorPass, {
        passes,
        isAuthenticated: isAuthenticated as ((request: Request) => boolean) | undefined,
      });
      if (selfService) {
        const { path, ...options } = selfService;
        await app.register(fastify.selfService, { ...options, passes, prefix: path });
      }
      if (admin) {
        const { path, ...options } = admin;
        await app.register(fastify.visitorAdmin, {
          ...(options as Omit<import("../fastify/index.js").FastifyAdminOptions, "passes">),
          passes,
          prefix: path,
        });
      }
    },
    guard(options) {
      const preHandler = fastify.userIsVisitor(options as GuardOptions<Request>);
      return async (request, response) => {
        const reply = response as Reply;
        await preHandler.call(reply.server, request as Request, reply);
        return reply.sent ? "answered" : "next";
      };
    },
    clear(request) {
      fastify.clearVisitor(request as Request);
    },
  };
  return platform;
}

/** The platform that ran the module's middleware on `request`, or `null`. */
export function platformOf(request: unknown): Platform | null {
  return ((request as { [PLATFORM]?: Platform } | null)?.[PLATFORM] ?? null) as Platform | null;
}
