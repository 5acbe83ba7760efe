import type { FastifyRequest } from "fastify";
import type { SessionPort } from "../../core/ports.js";

/** The part of @fastify/session the adapter uses. */
interface FastifySessionLike {
  sessionId?: string;
  cookie?: { maxAge?: number | null; expires?: Date | null; originalMaxAge?: number | null };
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  regenerate(ignoreFields?: string[]): Promise<void>;
}

type SessionRequest = FastifyRequest & { session?: FastifySessionLike | null };

/**
 * Marks a session whose cookie ends with the browser. @fastify/session rebuilds the cookie of a
 * restored session from its configured `maxAge` when the stored one has none, so a browser-session
 * cookie would turn back into a persistent one on the next response: `keepCookieLifetime` puts
 * it back on every request.
 */
const BROWSER_SESSION = "visitor-pass:browser-session";

function endWithBrowser(session: FastifySessionLike): void {
  if (!session.cookie) return;
  session.cookie.expires = null;
  session.cookie.originalMaxAge = null;
}

/** Re-applies a browser-session lifetime the pass set earlier (see `BROWSER_SESSION`). */
export function keepCookieLifetime(request: FastifyRequest): void {
  const session = (request as SessionRequest).session;
  if (session && typeof session.get === "function" && session.get(BROWSER_SESSION) === true) {
    endWithBrowser(session);
  }
}

/** The core's session interface over `request.session`, read afresh as regenerating replaces it. */
export function sessionPort(request: FastifyRequest): SessionPort | null {
  const req = request as SessionRequest;
  if (!req.session || typeof req.session.get !== "function") return null;
  return {
    get id() {
      return req.session?.sessionId ?? null;
    },
    get: (key) => req.session?.get(key),
    set: (key, value) => req.session?.set(key, value),
    delete: (key) => req.session?.set(key, undefined),
    setCookieLifetime: (seconds) => {
      const session = req.session;
      if (!session?.cookie) return;
      if (seconds === 0) {
        endWithBrowser(session);
        session.set(BROWSER_SESSION, true);
      } else {
        session.cookie.maxAge = seconds * 1000;
        session.set(BROWSER_SESSION, undefined);
      }
    },
    regenerate: async () => {
      const session = req.session;
      if (!session) return;
      // Keep what the app already had in the session: everything but the cookie itself.
      const kept = Object.keys(session).filter((key) => key !== "cookie");
      await session.regenerate(kept);
    },
  };
}
