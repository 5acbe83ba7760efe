/**
 * The NestJS adapter: a module that runs the request flow on the Express or Fastify platform,
 * the `@UserIsVisitor()` guard, the `@CurrentVisitor()` parameter, `clearVisitor()`, and the
 * self-service and admin pages as module options. It translates to the platform adapters
 * (`visitor-pass/express`, `visitor-pass/fastify`): their rules, Nest's idiom.
 *
 * @module visitor-pass/nestjs
 */
export type { GuardOptions, MatchRequest } from "../../core/guard.js";
export {
  CurrentVisitor,
  clearVisitor,
  UserIsVisitor,
  type UserIsVisitorOptions,
  VisitorPassGuard,
  VisitorPassHttpException,
} from "./nestjs-guard.js";
export {
  VISITOR_PASS,
  VisitorPassModule,
  type VisitorPassModuleAsyncOptions,
  type VisitorPassModuleOptions,
} from "./nestjs-module.js";
export type { PlatformRequest } from "./nestjs-request.js";
