import type { FastifyRequest } from "fastify";
import type { SessionPort } from "../../core/flow.js";

/** The part of @fastify/session the adapter uses. */
interface FastifySessionLike {
  sessionId?: string;
  cookie?: { maxAge?: number | null; expires?: Date | null; originalMaxAge?: number | null };
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  regenerate(ignoreFields?: string[]): Promise<void>;
}

type SessionRequest = FastifyRequest & { session?: FastifySessionLike | null };

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
      const cookie = req.session?.cookie;
      if (!cookie) return;
      if (seconds === 0) {
        cookie.expires = null;
        cookie.originalMaxAge = null;
      } else {
        cookie.maxAge = seconds * 1000;
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
