import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { flowOf, selfServiceOf, type VisitorPass } from "../../core/visitor-pass.js";
import { SelfService, type SelfServiceOptions } from "../../self-service/self-service.js";
import { sendPage } from "./fastify-response.js";

const FORM = "application/x-www-form-urlencoded";

export interface SelfServicePluginOptions extends SelfServiceOptions {
  passes: VisitorPass;
}

/**
 * The self-service pages as a plugin: register it under `passes.config.selfServicePath`, e.g.
 * `fastify.register(selfService, { passes, prefix: "/visitors" })`. It parses its own form posts.
 */
export const selfService: FastifyPluginAsync<SelfServicePluginOptions> = async (
  fastify,
  options,
) => {
  flowOf(options?.passes, "selfService");
  const service = new SelfService(selfServiceOf(options.passes, "selfService"), options);

  // Its own form parser, within this plugin only: one the app registered (say @fastify/formbody)
  // would otherwise make adding it throw, and the app's limits need not suit this form.
  if (fastify.hasContentTypeParser(FORM)) fastify.removeContentTypeParser(FORM);
  fastify.addContentTypeParser(
    FORM,
    { parseAs: "string", bodyLimit: 16 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  const origin = (request: FastifyRequest) => ({
    origin: (request.headers.origin as string | undefined) ?? null,
    secFetchSite: (request.headers["sec-fetch-site"] as string | undefined) ?? null,
    host: request.headers.host ?? null,
  });

  fastify.get("/self-service/sent", async (_request, reply) => sendPage(reply, service.sent()));
  fastify.get<{ Params: { uuid: string } }>("/self-service/:uuid", async (request, reply) =>
    sendPage(reply, await service.form(request.params.uuid)),
  );
  fastify.post<{ Params: { uuid: string } }>("/self-service/:uuid", async (request, reply) =>
    sendPage(reply, await service.submit(request.params.uuid, request.body, origin(request))),
  );
};
