import type { Request } from "express";
import type { SessionPort } from "../../core/flow.js";

/** The part of express-session (or a compatible middleware) the adapter uses. */
export interface ExpressSession {
  [key: string]: unknown;
  cookie?: { maxAge?: number | null; expires?: Date | null | boolean };
  regenerate?: (callback: (error?: unknown) => void) => void;
}

type SessionRequest = Request & { session?: ExpressSession; sessionID?: string };

/**
 * The core's session interface over `req.session`, read afresh on each call because
 * regenerating replaces the session object.
 */
export function sessionPort(req: Request): SessionPort | null {
  const request = req as SessionRequest;
  if (!request.session) return null;
  return {
    get id() {
      return request.sessionID ?? null;
    },
    get: (key) => request.session?.[key],
    set: (key, value) => {
      if (request.session) request.session[key] = value;
    },
    delete: (key) => {
      if (request.session) delete request.session[key];
    },
    setCookieLifetime: (seconds) => {
      const cookie = request.session?.cookie;
      if (!cookie) return;
      if (seconds === 0) cookie.expires = null;
      else cookie.maxAge = seconds * 1000;
    },
    regenerate: () => regenerate(request),
  };
}

/** express-session's regenerate, keeping what the app had already put in the session. */
function regenerate(req: SessionRequest): Promise<void> {
  const old = req.session;
  if (typeof old?.regenerate !== "function") return Promise.resolve();
  const kept = Object.entries(old).filter(([key]) => key !== "cookie");
  return new Promise((resolve, reject) => {
    old.regenerate!((error) => {
      if (error) return reject(error);
      for (const [key, value] of kept) {
        if (typeof value !== "function" && req.session) req.session[key] = value;
      }
      resolve();
    });
  });
}
