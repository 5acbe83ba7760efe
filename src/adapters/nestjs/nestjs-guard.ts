import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  HttpException,
  UseGuards,
} from "@nestjs/common";
import { VisitorPassError, VisitorPassHttpError } from "../../core/errors.js";
import { createGuard, type GuardOptions } from "../../core/guard.js";
import type { Visitor } from "../../core/visitor.js";
import { type GuardResult, type Platform, platformOf } from "./nestjs-platform.js";
import type { PlatformRequest } from "./nestjs-request.js";

/**
 * A refusal of the package (`VisitorAccessDenied` 403, `VisitorPassUnavailable` 503, and with
 * `selfService` `VisitorPassThrottled` 429 or `VisitorPassUriTooLong` 414) as a Nest
 * `HttpException`: the app's exception filters render it. `cause` is the package's error; the
 * response body is `{ statusCode, error, code, message }`, `error` being the package error's name.
 *
 * @example
 * ```ts
 * @Catch(VisitorPassHttpException)
 * export class VisitorRefusalFilter implements ExceptionFilter {
 *   catch(exception: VisitorPassHttpException, host: ArgumentsHost) {
 *     const response = host.switchToHttp().getResponse<Response>();
 *     response.status(exception.getStatus()).send(`<h1>${exception.cause.message}</h1>`);
 *   }
 * }
 * ```
 */
export class VisitorPassHttpException extends HttpException {
  /** The package's error: `VisitorAccessDenied`, `VisitorPassUnavailable`, … */
  declare readonly cause: VisitorPassHttpError;
  /** The package error's stable code, e.g. `VISITOR_ACCESS_DENIED`. */
  readonly code: string;

  constructor(error: VisitorPassHttpError) {
    super(
      { statusCode: error.status, error: error.name, code: error.code, message: error.message },
      error.status,
      { cause: error },
    );
    this.code = error.code;
  }
}

function setupError(message: string): VisitorPassError {
  return new VisitorPassError(message, "VISITOR_PASS_SETUP");
}

/**
 * The guard under `@UserIsVisitor()`: runs the platform adapter's `userIsVisitor` on the request
 * and turns its outcome into `true` or a `VisitorPassHttpException`.
 */
export class VisitorPassGuard implements CanActivate {
  readonly #options: GuardOptions<never>;
  readonly #guards = new Map<
    Platform,
    (request: unknown, response: unknown) => Promise<GuardResult>
  >();

  constructor(options: GuardOptions<never>) {
    // The options are checked now, where the decorator is written, as the platform guard would.
    createGuard(options);
    this.#options = options;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== "http") {
      throw setupError(`UserIsVisitor() guards HTTP routes; this is a "${context.getType()}" one.`);
    }
    const http = context.switchToHttp();
    const request = http.getRequest<unknown>();
    const platform = platformOf(request);
    if (!platform) {
      throw setupError(
        "UserIsVisitor() needs VisitorPassModule.forRoot({ passes }) (or forRootAsync()) in the app's imports: the platform's userIsVisitor() it runs relies on the visitorPass middleware the module mounts.",
      );
    }
    let guard = this.#guards.get(platform);
    if (!guard) {
      guard = platform.guard(this.#options);
      this.#guards.set(platform, guard);
    }
    let result: GuardResult;
    try {
      result = await guard(request, http.getResponse<unknown>());
    } catch (error) {
      throw error instanceof VisitorPassHttpError ? new VisitorPassHttpException(error) : error;
    }
    // Answered already (sent to the self-service form): neither the handler nor an exception
    // filter may write to the response any more, so the request's pipeline stops here, on a
    // promise that never settles and that nothing else holds (it is collected with the request).
    return result === "answered" ? new Promise<boolean>(() => {}) : true;
  }
}

/** Options of `@UserIsVisitor()`: `GuardOptions` of the platform's `userIsVisitor`. */
export type UserIsVisitorOptions<Req = PlatformRequest> = GuardOptions<Req>;

/**
 * Guards a controller or a handler: admits visitors whose pass has `scope` (any scope with
 * `SCOPE_ANY`), or anyone `bypass(request)` lets through; otherwise throws a
 * `VisitorPassHttpException` (403, or 503 while the store is failing). With `selfService`, a
 * visitor without a pass is sent to the self-service form (serve it with the module's
 * `selfService` option); a request over its network's budget gets a 429 (with `Retry-After`), and
 * one whose URL is too long to remember a 414. Each admitted visit is logged with the final status
 * code unless `logVisit` is false. A bad option (an empty scope) throws where the decorator is
 * written.
 *
 * `bypass(request)` receives the platform's request (Express `Request`, Fastify
 * `FastifyRequest`): name it as the type argument to have it typed so.
 *
 * @example
 * ```ts
 * import { Controller, Get } from "@nestjs/common";
 * import { CurrentVisitor, UserIsVisitor } from "visitor-pass/nestjs";
 * import type { Visitor } from "visitor-pass";
 *
 * @Controller("reference")
 * @UserIsVisitor({ scope: "REFERENCE_REQUEST" })
 * export class ReferenceController {
 *   @Get()
 *   form(@CurrentVisitor() visitor: Visitor) {
 *     return `Hello ${visitor.firstName}`;
 *   }
 * }
 * ```
 */
export function UserIsVisitor<Req = PlatformRequest>(
  options: UserIsVisitorOptions<Req>,
): ClassDecorator & MethodDecorator {
  return UseGuards(new VisitorPassGuard(options as GuardOptions<never>));
}

const currentVisitor = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Visitor | null =>
    context.switchToHttp().getRequest<{ visitor?: Visitor | null }>().visitor ?? null,
);

/**
 * The handler parameter that receives the request's `Visitor` (`null` when there is none, e.g.
 * on a route anyone may see, or one a `bypass` let someone through).
 *
 * @example
 * ```ts
 * @Get("reference")
 * @UserIsVisitor({ scope: "REFERENCE_REQUEST" })
 * form(@CurrentVisitor() visitor: Visitor) {
 *   return `Hello ${visitor.fullName}`;
 * }
 * ```
 */
export function CurrentVisitor(): ParameterDecorator {
  return currentVisitor();
}

/**
 * Ends visitor access for this session at once: the "final step" of a visitor's journey.
 * `request` is the platform's request (`@Req()`).
 *
 * @example
 * ```ts
 * @Post("reference")
 * @UserIsVisitor({ scope: "REFERENCE_REQUEST" })
 * async submit(@Req() request: Request, @CurrentVisitor() visitor: Visitor) {
 *   await this.references.save(visitor);
 *   clearVisitor(request); // this session loses its access at once
 *   return "Thank you";
 * }
 * ```
 */
export function clearVisitor(request: object): void {
  const platform = platformOf(request);
  if (!platform) {
    throw setupError(
      "clearVisitor() needs VisitorPassModule.forRoot({ passes }) (or forRootAsync()) in the app's imports, and the platform's request (@Req()).",
    );
  }
  platform.clear(request);
}
