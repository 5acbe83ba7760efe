import type { Request } from "express";
import type { SessionPort } from "../../core/flow.js";

/** The part of express-session (or a compatible middleware) the adapter uses. */
export interface ExpressSession {
  [key: string]: unknown;
  cookie?: { maxAge?: number | null; expires?: Date | null | boolean };
}

export function sessionOf(req: Request): ExpressSession | undefined {
  return (req as Request & { session?: ExpressSession }).session;
}

/** The core's session interface over `req.session`. */
export function sessionPort(req: Request): SessionPort | null {
  const session = sessionOf(req);
  if (!session) return null;
  return {
    get id() {
      return (req as Request & { sessionID?: string }).sessionID ?? null;
    },
    get: (key) => session[key],
    set: (key, value) => {
      session[key] = value;
    },
    delete: (key) => {
      delete session[key];
    },
    setCookieLifetime: (seconds) => {
      if (!session.cookie) return;
      if (seconds === 0) session.cookie.expires = null;
      else session.cookie.maxAge = seconds * 1000;
    },
  };
}
