import type { FastifyReply } from "fastify";
import type { PageResponse } from "../../core/page.js";
import type { Respond } from "../../core/request-flow.js";

/** Writes a response the core decided on: a page, or a redirect (`body` null). */
export function sendPage(reply: FastifyReply, page: PageResponse | Respond): FastifyReply {
  return reply
    .code(page.status)
    .headers(page.headers)
    .send(page.body ?? undefined);
}
