import type { IncomingHttpHeaders } from "node:http";
import type { Visitor } from "../../core/visitor.js";

/**
 * What `bypass`, `isAuthenticated` and `authorize` can count on in the platform's request, on
 * Express and on Fastify alike. Name the platform's own type (`Request` of express,
 * `FastifyRequest`) as a type argument for the rest of it.
 */
export interface PlatformRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The visitor admitted by a token on this request or restored from the session. */
  visitor: Visitor | null;
  /** Whether `visitor` is set. */
  isVisitor: boolean;
}
