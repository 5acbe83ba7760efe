import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { selfServiceOf, type VisitorPass } from "../../core/visitor-pass.js";
import {
  SELF_SERVICE_BODY_LIMIT,
  SelfService,
  type SelfServiceOptions,
} from "../../features/self-service/self-service.js";
import { clientAddress } from "./hono-client-address.js";
import { pageResponse } from "./hono-response.js";

export type { SelfServiceOptions } from "../../features/self-service/self-service.js";

/**
 * The self-service pages as a sub-app: mount it at `passes.config.selfServicePath`, e.g.
 * `app.route("/visitors", selfService(passes))`.
 *
 * @example
 * ```ts
 * import { selfService, userIsVisitor } from "visitor-pass/hono";
 *
 * app.route(passes.config.selfServicePath, selfService(passes)); // "/visitors"
 * app.get("/early-access", userIsVisitor({ scope: "EARLY_ACCESS", selfService: true }), page);
 * ```
 */
export function selfService(passes: VisitorPass, options: SelfServiceOptions = {}): Hono {
  const service = new SelfService(selfServiceOf(passes, "selfService()"), options);
  const app = new Hono();

  app.get("/self-service/sent", () => pageResponse(service.sent()));
  app.get("/self-service/:uuid", async (c) =>
    pageResponse(await service.form(c.req.param("uuid"), c.req.url)),
  );
  app.post(
    "/self-service/:uuid",
    bodyLimit({
      maxSize: SELF_SERVICE_BODY_LIMIT,
      onError: () => pageResponse(service.tooLarge()),
    }),
    async (c) => {
      let body: Record<string, unknown> = {};
      try {
        body = (await c.req.parseBody()) as Record<string, unknown>;
      } catch {
        body = {};
      }
      const submission = {
        origin: c.req.header("origin") ?? null,
        secFetchSite: c.req.header("sec-fetch-site") ?? null,
        host: c.req.header("host") ?? null,
        contentLength: c.req.header("content-length") ?? null,
        ip: clientAddress(c),
      };
      return pageResponse(await service.submit(c.req.param("uuid"), body, submission));
    },
  );
  return app;
}
