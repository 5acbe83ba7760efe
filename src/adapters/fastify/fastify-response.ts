import type { FastifyReply } from "fastify";
import type { PageResponse } from "../../core/page.js";

/** Writes a page the core decided on. */
export function sendPage(reply: FastifyReply, page: PageResponse): FastifyReply {
  return reply.code(page.status).headers(page.headers).send(page.body);
}
