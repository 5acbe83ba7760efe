import {
  type DynamicModule,
  type FactoryProvider,
  Inject,
  type MiddlewareConsumer,
  Module,
  type ModuleMetadata,
  type NestModule,
} from "@nestjs/common";
import { HttpAdapterHost } from "@nestjs/core";
import { VisitorPassConfigError, VisitorPassError } from "../../core/errors.js";
import { flowOf, type VisitorPass } from "../../core/visitor-pass.js";
import type { VisitorAdminOptions } from "../../features/admin/admin.js";
import type { SelfServiceOptions } from "../../features/self-service/self-service.js";
import { loadPlatform, type Mounting } from "./nestjs-platform.js";
import type { PlatformRequest } from "./nestjs-request.js";

/** The injection token of the `VisitorPass` given to the module, e.g. `@Inject(VISITOR_PASS)`. */
export const VISITOR_PASS = Symbol.for("visitor-pass.nestjs.passes");

const MOUNTING = Symbol.for("visitor-pass.nestjs.mounting");

/**
 * Options of `VisitorPassModule.forRoot()` (and what `forRootAsync()`'s factory returns).
 *
 * @example
 * ```ts
 * VisitorPassModule.forRoot({
 *   passes,
 *   isAuthenticated: (request) => request.session.user != null,
 *   selfService: true, // the form at passes.config.selfServicePath ("/visitors")
 *   admin: { path: "/admin/visitors", authorize: (request) => request.session.user?.isStaff },
 * });
 * ```
 */
export interface VisitorPassModuleOptions<Req = PlatformRequest> {
  /** The object `createVisitorPass()` returned (migrated: the module does no I/O). */
  passes: VisitorPass;
  /**
   * Whether a user is signed in; a visitor's session cookie lifetime only applies when not.
   * Receives the platform's request.
   * @default (request) => request.user != null
   */
  isAuthenticated?: (request: Req) => boolean;
  /**
   * Serve the self-service pages (for `@UserIsVisitor({ selfService: true })`): `true` at
   * `passes.config.selfServicePath`, or `{ path, ...pageOptions }`.
   * @default false
   */
  selfService?: boolean | (SelfServiceOptions & { path?: string });
  /**
   * Serve the admin pages at `path`; `authorize(request)` says who may manage passes.
   * @default none
   */
  admin?: VisitorAdminOptions<Req> & { path: string };
}

/**
 * Options of `VisitorPassModule.forRootAsync()`: a factory of the module's options, with what it
 * injects.
 *
 * @example
 * ```ts
 * VisitorPassModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: async (config: ConfigService) => {
 *     const passes = createVisitorPass({ database: config.get("DATABASE_URL") });
 *     await passes.migrate();
 *     return { passes, selfService: true };
 *   },
 * });
 * ```
 */
export interface VisitorPassModuleAsyncOptions<Req = PlatformRequest> {
  imports?: ModuleMetadata["imports"];
  inject?: FactoryProvider["inject"];
  useFactory: (
    ...args: never[]
  ) => VisitorPassModuleOptions<Req> | Promise<VisitorPassModuleOptions<Req>>;
}

function mountingOf(
  options: VisitorPassModuleOptions<never> | undefined,
  caller: string,
): Mounting {
  flowOf(options?.passes as VisitorPass, `${caller} with { passes }`);
  const { passes, isAuthenticated, selfService, admin } =
    options as VisitorPassModuleOptions<never>;
  if (isAuthenticated !== undefined && typeof isAuthenticated !== "function") {
    throw new VisitorPassConfigError("isAuthenticated", isAuthenticated, "must be a function");
  }
  if (admin !== undefined && (typeof admin?.path !== "string" || !admin.path.startsWith("/"))) {
    throw new VisitorPassConfigError(
      "admin.path",
      admin?.path,
      `${caller} needs the path to serve the admin pages at, e.g. { path: "/admin/visitors", authorize }`,
    );
  }
  let pages: Mounting["selfService"] = null;
  if (selfService === true) pages = { path: passes.config.selfServicePath };
  else if (selfService && typeof selfService === "object") {
    pages = { ...selfService, path: selfService.path ?? passes.config.selfServicePath };
  } else if (selfService !== undefined && selfService !== false) {
    throw new VisitorPassConfigError("selfService", selfService, "must be true, false or { path }");
  }
  return {
    passes,
    isAuthenticated,
    selfService: pages,
    admin: (admin as Mounting["admin"]) ?? null,
  };
}

/**
 * The visitor-pass module: import it once, in the app module, with `forRoot({ passes })` or
 * `forRootAsync()`. On the Express platform (after express-session) and the Fastify platform
 * (after @fastify/session) it runs the platform adapter's request flow on every request —
 * `request.visitor` and `request.isVisitor`, the landing on a link, the session stash — and, when
 * asked, serves the self-service and admin pages. Guard routes with `@UserIsVisitor()`. It is
 * global: `@Inject(VISITOR_PASS)` gives the `VisitorPass` anywhere.
 *
 * Session middleware must come first: `app.use(session(...))` (Express) or
 * `await app.register(fastifySession, ...)` (Fastify) before `app.listen()` / `app.init()`.
 *
 * @example
 * ```ts
 * import { Module } from "@nestjs/common";
 * import { createVisitorPass } from "visitor-pass";
 * import { VisitorPassModule } from "visitor-pass/nestjs";
 *
 * const passes = createVisitorPass();
 * await passes.migrate();
 *
 * @Module({
 *   imports: [VisitorPassModule.forRoot({ passes, selfService: true })],
 *   controllers: [ReferenceController],
 * })
 * export class AppModule {}
 * ```
 */
export class VisitorPassModule implements NestModule {
  readonly #mounting: Mounting;
  readonly #host: HttpAdapterHost;

  /** @internal Nest builds the module; use `forRoot()` or `forRootAsync()`. */
  constructor(mounting: Mounting, host: HttpAdapterHost) {
    this.#mounting = mounting;
    this.#host = host;
  }

  /**
   * The module over `options.passes`; a missing or bad option throws here, naming it.
   *
   * @example
   * ```ts
   * @Module({ imports: [VisitorPassModule.forRoot({ passes, selfService: true })] })
   * export class AppModule {}
   * ```
   */
  static forRoot<Req = PlatformRequest>(options: VisitorPassModuleOptions<Req>): DynamicModule {
    const mounting = mountingOf(
      options as VisitorPassModuleOptions<never>,
      "VisitorPassModule.forRoot()",
    );
    return {
      module: VisitorPassModule,
      global: true,
      providers: [
        { provide: MOUNTING, useValue: mounting },
        { provide: VISITOR_PASS, useValue: mounting.passes },
      ],
      exports: [VISITOR_PASS],
    };
  }

  /**
   * The module over the options `useFactory` resolves to; a missing or bad option fails the
   * app's start, naming it.
   *
   * @example
   * ```ts
   * VisitorPassModule.forRootAsync({
   *   useFactory: async () => {
   *     const passes = createVisitorPass({ database: process.env.DATABASE_URL });
   *     await passes.migrate();
   *     return { passes };
   *   },
   * });
   * ```
   */
  static forRootAsync<Req = PlatformRequest>(
    options: VisitorPassModuleAsyncOptions<Req>,
  ): DynamicModule {
    if (typeof options?.useFactory !== "function") {
      throw new VisitorPassConfigError(
        "useFactory",
        options?.useFactory,
        "VisitorPassModule.forRootAsync() needs a useFactory that returns { passes }",
      );
    }
    const { useFactory } = options;
    return {
      module: VisitorPassModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: MOUNTING,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]) =>
            mountingOf(
              (await useFactory(...args)) as VisitorPassModuleOptions<never>,
              "VisitorPassModule.forRootAsync()",
            ),
        },
        {
          provide: VISITOR_PASS,
          inject: [MOUNTING],
          useFactory: (mounting: Mounting) => mounting.passes,
        },
      ],
      exports: [VISITOR_PASS],
    };
  }

  /**
   * Mounts the platform adapter on the app's HTTP instance while the app initialises: after the
   * app's own `app.use()` / `app.register()` (its session), before any route.
   */
  async configure(_consumer: MiddlewareConsumer): Promise<void> {
    const adapter = this.#host?.httpAdapter;
    if (!adapter) {
      throw new VisitorPassError(
        "VisitorPassModule needs an HTTP application: NestFactory.create() or createNestApplication().",
        "VISITOR_PASS_SETUP",
      );
    }
    const type = adapter.getType();
    if (type !== "express" && type !== "fastify") {
      throw new VisitorPassError(
        `VisitorPassModule runs on the Express and Fastify platforms, not on "${type}".`,
        "VISITOR_PASS_SETUP",
      );
    }
    const platform = await loadPlatform(type);
    await platform.mount(adapter.getInstance(), this.#mounting);
  }
}

Inject(MOUNTING)(VisitorPassModule, undefined, 0);
Inject(HttpAdapterHost)(VisitorPassModule, undefined, 1);
Module({})(VisitorPassModule);
