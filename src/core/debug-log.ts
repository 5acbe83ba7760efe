import type { VisitorPassLogger } from "./config.js";
import type { RefusalReason } from "./guard.js";
import type { Visitor } from "./visitor.js";

/**
 * The request flow's debug lines, written in this one place: the decisions it takes (admitted,
 * restored from the session, refused and why, sent to self-service, cleared). A pass is named by
 * its id and scope, never by its token or the token's digest. The flow holds one only when the
 * app's `logger` has `debug`: without it, nothing here runs and no line is built.
 */
export class DebugLog {
  readonly #debug: (message: string) => void;

  private constructor(logger: VisitorPassLogger & { debug: (message: string) => void }) {
    this.#debug = (message) => logger.debug(message);
  }

  /** The debug lines of `logger`, or `null` when it has no `debug` (the default logger). */
  static of(logger: VisitorPassLogger): DebugLog | null {
    return typeof logger.debug === "function"
      ? new DebugLog(logger as VisitorPassLogger & { debug: (message: string) => void })
      : null;
  }

  /** A landing admitted `visitor`; `spent`: it spent a use (else the session already held it). */
  admitted(visitor: Visitor, spent: boolean): void {
    this.#line(
      `admitted ${pass(visitor)} from its link${spent ? "" : " (the session already held it; no use spent)"}; session expiry: ${sessionExpiry(visitor)}`,
    );
  }

  /** The session held `visitor`, still valid. */
  restored(visitor: Visitor): void {
    this.#line(
      `restored ${pass(visitor)} from the session; session expiry: ${sessionExpiry(visitor)}`,
    );
  }

  /** A guard of `scope` refused (`status`) `visitor` (or nobody) for `reason`. */
  refused(
    scope: string,
    reason: RefusalReason | "unavailable" | "log-failure",
    visitor: Visitor | null,
    status: number,
  ): void {
    this.#line(
      `refused ${visitor ? pass(visitor) : "a request without a visitor"} at a guard of scope "${scope}" (${status}): ${REASONS[reason]}`,
    );
  }

  /** A guard of `scope` sent a request without a pass of its scope to the self-service form. */
  selfService(scope: string): void {
    this.#line(`sent a request without a pass of scope "${scope}" to the self-service form`);
  }

  /** `clearVisitor()` ended the session's access as `visitor`. */
  cleared(visitor: Visitor): void {
    this.#line(`cleared ${pass(visitor)} from the session`);
  }

  #line(message: string): void {
    try {
      this.#debug(`visitor-pass: ${message}`);
    } catch {
      // A logger that fails must not fail the request it reports on.
    }
  }
}

const REASONS: Record<RefusalReason | "unavailable" | "log-failure", string> = {
  scope: "no visitor of this scope",
  match: "the guard's match did not return true",
  unavailable: "the store failed, the pass could not be checked",
  "log-failure": "visit logs cannot be written (onLogFailure: refuse)",
};

function pass(visitor: Visitor): string {
  return `pass ${visitor.id} (scope "${visitor.scope}")`;
}

function sessionExpiry(visitor: Visitor): string {
  const seconds = visitor.sessionExpiry;
  if (seconds === null) return "the app's session policy";
  if (seconds === 0) return "when the browser closes";
  return `${seconds} s from admission`;
}
