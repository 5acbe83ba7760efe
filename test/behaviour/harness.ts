import type { VisitorPass } from "../../src/index.js";
import { expressHarness } from "./express-harness.js";

export { APP_COOKIE_MAX_AGE, REFERENCE_SCOPE } from "./routes.js";

/**
 * How the visitor middleware is mounted. `standard`: session, then `visitorPass`; `split`: session,
 * then `visitorRequest` and `visitorSession`; the others are the setup mistakes a user can make.
 */
export type SetupVariant =
  | "standard"
  | "split"
  | "no-session"
  | "session-without-request"
  | "guard-without-middleware";

export interface HarnessOptions {
  setup?: SetupVariant;
}

export interface RunningApp {
  /** Base URL of the listening server, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Name of the cookie that carries the session. */
  sessionCookie: string;
  /** The session id a session cookie value stands for (as visit logs record it), or `null`. */
  sessionIdOf(cookieValue: string): string | null;
  close(): Promise<void>;
}

export interface FrameworkHarness {
  name: string;
  /** Builds the standard app over `passes` and listens on 127.0.0.1, port 0. */
  start(passes: VisitorPass, options?: HarnessOptions): Promise<RunningApp>;
  /** Creates a guard the framework's way (`userIsVisitor(options)`), for setup checks. */
  guard(options: { scope: string }): unknown;
}

export const HARNESSES: FrameworkHarness[] = [expressHarness];
