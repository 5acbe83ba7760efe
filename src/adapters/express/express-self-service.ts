import { type Request, Router, urlencoded } from "express";
import { flowOf, selfServiceOf, type VisitorPass } from "../../core/visitor-pass.js";
import { SelfService, type SelfServiceOptions } from "../../self-service/self-service.js";
import { sendPage } from "./express-response.js";

export type { SelfServiceOptions } from "../../self-service/self-service.js";

/**
 * The self-service pages as a router: mount it at `passes.config.selfServicePath` (`/visitors`
 * by default), e.g. `app.use("/visitors", selfService(passes))`.
 */
export function selfService(passes: VisitorPass, options: SelfServiceOptions = {}): Router {
  flowOf(passes, "selfService()");
  const service = new SelfService(selfServiceOf(passes, "selfService()"), options);
  const router = Router();
  const form = urlencoded({ extended: false, limit: "16kb", parameterLimit: 20 });

  router.get("/self-service/sent", (_req, res) => sendPage(res, service.sent()));
  router.get("/self-service/:uuid", async (req, res, next) => {
    try {
      sendPage(res, await service.form(String(req.params.uuid)));
    } catch (error) {
      next(error);
    }
  });
  router.post("/self-service/:uuid", form, async (req, res, next) => {
    try {
      sendPage(res, await service.submit(String(req.params.uuid), req.body, originHeaders(req)));
    } catch (error) {
      next(error);
    }
  });
  return router;
}

function originHeaders(req: Request) {
  return {
    origin: req.get("origin") ?? null,
    secFetchSite: req.get("sec-fetch-site") ?? null,
    host: req.get("host") ?? null,
  };
}
