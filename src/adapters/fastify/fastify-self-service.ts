import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { selfServiceOf, type VisitorPass } from "../../core/visitor-pass.js";
import {
  SELF_SERVICE_BODY_LIMIT,
  SelfService,
  type SelfServiceOptions,
  type SelfServiceSubmission,
} from "../../features/self-service/self-service.js";
import { sendPage } from "./fastify-response.js";

const FORM = "application/x-www-form-urlencoded";

export interface SelfServicePluginOptions extends SelfServiceOptions {
  passes: VisitorPass;
}

/**
 * The self-service pages as a plugin: register it under `passes.config.selfServicePath`, e.g.
 * `fastify.register(selfService, { passes, prefix: "/visitors" })`. It parses its own form posts.
 *
 * @example
 * ```ts
 * import { selfService, userIsVisitor } from "visitor-pass/fastify";
 *
 * await app.register(selfService, { passes, prefix: passes.config.selfServicePath }); // "/visitors"
 * app.get(
 *   "/early-access",
 *   { preHandler: userIsVisitor({ scope: "EARLY_ACCESS", selfService: true }) },
 *   page,
 * );
 * ```
 */
export const selfService: FastifyPluginAsync<SelfServicePluginOptions> = async (
  fastify,
  options,
) => {
  const service = new SelfService(selfServiceOf(options?.passes, "selfService"), options);

  // Its own form parser, within this plugin only: one the app registered (say @fastify/formbody)
  // would otherwise make adding it throw, and the app's limits need not suit this form.
  if (fastify.hasContentTypeParser(FORM)) fastify.removeContentTypeParser(FORM);
  fastify.addContentTypeParser(
    FORM,
    { parseAs: "string", bodyLimit: SELF_SERVICE_BODY_LIMIT },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  const submission = (request: FastifyRequest): SelfServiceSubmission => ({
    origin: (request.headers.origin as string | undefined) ?? null,
    secFetchSite: (request.headers["sec-fetch-site"] as string | undefined) ?? null,
    host: request.headers.host ?? null,
    contentLength: request.headers["content-length"] ?? null,
    ip: request.ip ?? null,
  });

  fastify.get("/self-service/sent", async (_request, reply) => sendPage(reply, service.sent()));
  fastify.get<{ Params: { uuid: string } }>("/self-service/:uuid", async (request, reply) =>
    sendPage(reply, await service.form(request.params.uuid, request.url)),
  );
  fastify.post<{ Params: { uuid: string } }>(
    "/self-service/:uuid",
    {
      // Whichever parser reads the body (the app may have its own for other types): the same
      // limit, and a body declared larger is refused with the form's page before it is read.
      bodyLimit: SELF_SERVICE_BODY_LIMIT,
      onRequest: async (request, reply) => {
        const refused = service.refuseLength(request.headers["content-length"]);
        if (refused) return sendPage(reply, refused);
      },
    },
    async (request, reply) =>
      sendPage(reply, await service.submit(request.params.uuid, request.body, submission(request))),
  );
};
