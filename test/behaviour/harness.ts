import type { SelfServiceOptions } from "../../src/features/self-service/self-service.js";
import type { VisitorPass } from "../../src/index.js";
import { expressHarness } from "./express-harness.js";
import { fastifyHarness } from "./fastify-harness.js";
import { fetchHarness } from "./fetch-harness.js";
import { honoHarness } from "./hono-harness.js";
import { nestjsExpressHarness, nestjsFastifyHarness } from "./nestjs-harness.js";
import { nextHarness } from "./next-harness.js";

export { APP_COOKIE_MAX_AGE, REFERENCE_SCOPE } from "./routes.js";

/**
 * How the visitor middleware is mounted. `standard`: session, then `visitorPass`; `split`: session,
 * then `visitorRequest` and `visitorSession`; the others are the setup mistakes a user can make.
 * A harness whose framework cannot express a variant rejects it (see `Capabilities`).
 */
export type SetupVariant =
  | "standard"
  | "split"
  | "no-session"
  | "session-without-request"
  | "guard-without-middleware";

export interface HarnessOptions {
  setup?: SetupVariant;
  /** Options of the self-service pages every harness mounts (the built-in form without). */
  selfService?: SelfServiceOptions;
}

export interface RunningApp {
  /** Base URL of the listening server, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Name of the cookie that carries the session (Hono: the encrypted stash). */
  sessionCookie: string;
  /** The session id a session cookie value stands for (as visit logs record it), or `null`. */
  sessionIdOf(cookieValue: string): string | null;
  /**
   * Everything the server-side session store holds, as text, as a dump of it would show it;
   * `undefined` without one (Hono's stash is the cookie itself).
   */
  storedSessions?(): string;
  close(): Promise<void>;
}

/**
 * Where frameworks legitimately differ. Tests branch on these, each branch asserting what holds
 * for that kind of framework; nothing is skipped for everyone because one framework differs.
 */
export interface Capabilities {
  /**
   * The visitor is stashed in a server-side session that the cookie only names (express-session,
   * @fastify/session): the app keeps its own data in the same session, and an id the server
   * dropped grants nothing even when a browser replays it. `false` for Hono's encrypted cookie
   * stash, which carries the uuid itself (with an absolute expiry) and nothing of the app's: there
   * is no old id to revoke, a copy of a cookie holds exactly what it held, and the app keeps its
   * own data in cookies of its own.
   */
  serverSession: boolean;
  /**
   * `visitorRequest` and `visitorSession` exist as two middlewares (Express), so they can be
   * mounted apart, or in the wrong order. Fastify and Hono have one plugin / middleware.
   */
  splitMiddleware: boolean;
  /**
   * The guard is a middleware of its own (`userIsVisitor`), which can be mounted without the
   * visitor middleware. `false` for the fetch entry point, whose guard is an argument of the one
   * `handle()` call: there is nothing to forget.
   */
  guardMiddleware: boolean;
  /**
   * How a missing session layer shows: `"request"`, a VISITOR_PASS_SETUP error on every request
   * (Express middleware cannot know at setup); `"startup"`, the framework's plugin dependency
   * error when the app starts (Fastify); `"none"`, no session layer is needed (Hono).
   */
  missingSession: "request" | "startup" | "none";
  /** The session package that setup error names (`null` with `missingSession: "none"`). */
  sessionPackage: string | null;
  /**
   * The server answers request targets other than a plain path itself, before any proxy or route
   * runs (Next.js): a path with `//` or `\` in it, the absolute form among them, gets a 308 to the
   * path with single slashes, and the asterisk form (`OPTIONS *`) an error page of its own.
   * visitor-pass never sees them. `false`: they reach visitor-pass as sent.
   */
  normalisesTargets: boolean;
}

export interface FrameworkHarness {
  name: string;
  capabilities: Capabilities;
  /** Builds the standard app over `passes` and listens on 127.0.0.1, port 0. */
  start(passes: VisitorPass, options?: HarnessOptions): Promise<RunningApp>;
  /** Creates a guard the framework's way (`userIsVisitor(options)`), for setup checks. */
  guard(options: { scope: string }): unknown;
}

export const HARNESSES: FrameworkHarness[] = [
  expressHarness,
  fastifyHarness,
  honoHarness,
  fetchHarness,
  nestjsExpressHarness,
  nestjsFastifyHarness,
  nextHarness,
];
