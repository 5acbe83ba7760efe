import { type Request, type RequestHandler, Router, urlencoded } from "express";
import { selfServiceOf, type VisitorPass } from "../../core/visitor-pass.js";
import {
  SELF_SERVICE_BODY_LIMIT,
  SELF_SERVICE_PARAMETER_LIMIT,
  SelfService,
  type SelfServiceOptions,
  type SelfServiceSubmission,
} from "../../features/self-service/self-service.js";
import { sendPage } from "./express-response.js";

export type { SelfServiceOptions } from "../../features/self-service/self-service.js";

/**
 * The self-service pages as a router: mount it at `passes.config.selfServicePath` (`/visitors`
 * by default), e.g. `app.use("/visitors", selfService(passes))`.
 *
 * @example
 * ```ts
 * import { selfService, userIsVisitor } from "visitor-pass/express";
 *
 * app.use(passes.config.selfServicePath, selfService(passes)); // "/visitors"
 * app.get("/early-access", userIsVisitor({ scope: "EARLY_ACCESS", selfService: true }), page);
 * passes.on("selfServiceVisitorCreated", async (visitor) => {
 *   await sendMail(visitor.email, passes.tokenise("https://app.example/early-access", visitor));
 * });
 * ```
 */
export function selfService(passes: VisitorPass, options: SelfServiceOptions = {}): Router {
  const service = new SelfService(selfServiceOf(passes, "selfService()"), options);
  const router = Router();
  const parseForm = urlencoded({
    extended: false,
    limit: SELF_SERVICE_BODY_LIMIT,
    parameterLimit: SELF_SERVICE_PARAMETER_LIMIT,
  });
  // Refused by its declared length before anything reads it; a body sent without one is cut off
  // by the parser at the same limit. A body the app parsed already is left to the core.
  const form: RequestHandler = (req, res, next) => {
    const refused = service.refuseLength(req.get("content-length"));
    if (refused) return sendPage(res, refused);
    parseForm(req, res, (error?: unknown) => {
      if ((error as { type?: unknown } | undefined)?.type === "entity.too.large") {
        return sendPage(res, service.tooLarge());
      }
      next(error);
    });
  };

  router.get("/self-service/sent", (_req, res) => sendPage(res, service.sent()));
  router.get("/self-service/:uuid", async (req, res, next) => {
    try {
      sendPage(res, await service.form(String(req.params.uuid), req.originalUrl));
    } catch (error) {
      next(error);
    }
  });
  router.post("/self-service/:uuid", form, async (req, res, next) => {
    try {
      sendPage(res, await service.submit(String(req.params.uuid), req.body, submission(req)));
    } catch (error) {
      next(error);
    }
  });
  return router;
}

function submission(req: Request): SelfServiceSubmission {
  return {
    origin: req.get("origin") ?? null,
    secFetchSite: req.get("sec-fetch-site") ?? null,
    host: req.get("host") ?? null,
    contentLength: req.get("content-length") ?? null,
    ip: req.ip ?? null,
  };
}
