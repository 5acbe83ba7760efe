import type { Request } from "express";
import type { SessionPort } from "../../core/ports.js";

/** The part of express-session (or a compatible middleware) the adapter uses. */
export interface ExpressSession {
  [key: string]: unknown;
  cookie?: { maxAge?: number | null; expires?: Date | null | boolean };
  regenerate?: (callback: (error?: unknown) => void) => void;
}

type SessionRequest = Request & { session?: ExpressSession; sessionID?: string };

/**
 * The core's session interface over `req.session`, read afresh on each call because
 * regenerating replaces the session object. A class, so each request allocates one small object.
 */
class ExpressSessionPort implements SessionPort {
  constructor(readonly request: SessionRequest) {}

  get id(): string | null {
    return this.request.sessionID ?? null;
  }

  get(key: string): unknown {
    return this.request.session?.[key];
  }

  set(key: string, value: string): void {
    if (this.request.session) this.request.session[key] = value;
  }

  delete(key: string): void {
    const session = this.request.session;
    if (session && key in session) delete session[key];
  }

  setCookieLifetime(seconds: number): void {
    const cookie = this.request.session?.cookie;
    if (!cookie) return;
    if (seconds === 0) cookie.expires = null;
    else cookie.maxAge = seconds * 1000;
  }

  regenerate(): Promise<void> {
    return regenerate(this.request);
  }
}

export function sessionPort(req: Request): SessionPort | null {
  const request = req as SessionRequest;
  return request.session ? new ExpressSessionPort(request) : null;
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
