import type { Request } from "express";
import type { VisitRequest } from "../../core/ports.js";
import type { RequestContext } from "../../core/request-flow.js";

/**
 * The request as the core sees it, and whether a user is signed in. One small object per request:
 * headers, the client address and the signed-in check are read only when the core asks (most
 * requests never need them), through getters on the prototype rather than per-request closures.
 */
export class ExpressVisit implements VisitRequest, RequestContext {
  readonly method: string;
  /** As requested, with its token: the core strips it where it records the URL. */
  readonly url: string;

  constructor(
    readonly request: Request,
    readonly isAuthenticated: (req: Request) => boolean,
    url: string = request.originalUrl,
  ) {
    this.method = request.method;
    this.url = url;
  }

  get userAgent(): string | null {
    return this.request.headers["user-agent"] ?? null;
  }

  get referer(): string | null {
    const { headers } = this.request;
    return headerValue(headers.referer ?? headers.referrer);
  }

  get ip(): string | null {
    const { request } = this;
    // With no proxy trusted (Express's default), `req.ip` is the socket's address: read it
    // straight rather than through proxy-addr, which parses X-Forwarded-For only to discard it
    // (about 3 µs a logged request). An app's own `req.ip` still wins.
    if (request.app?.settings?.["trust proxy"] === false && !Object.hasOwn(request, "ip")) {
      return request.socket?.remoteAddress ?? null;
    }
    return request.ip ?? null;
  }

  get origin(): string | null {
    return this.request.headers.origin ?? null;
  }

  get secFetchSite(): string | null {
    return headerValue(this.request.headers["sec-fetch-site"]);
  }

  get host(): string | null {
    return this.request.headers.host ?? null;
  }

  get authenticated(): boolean {
    return this.isAuthenticated(this.request);
  }
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
