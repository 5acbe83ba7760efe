import { type Request, Router, urlencoded } from "express";
import type { VisitorPass } from "../../core/visitor-pass.js";
import {
  ADMIN_BODY_LIMIT,
  ADMIN_FIELD_LIMIT,
  type AdminRequest,
  VisitorAdmin,
  type VisitorAdminOptions,
} from "../../features/admin/admin.js";
import { sendPage } from "./express-response.js";

/**
 * Options of `visitorAdmin` for Express: `authorize` receives Express's `req`.
 *
 * @example
 * ```ts
 * app.use(
 *   "/admin/visitors",
 *   visitorAdmin(passes, { authorize: (req) => req.session.user?.isStaff === true }),
 * );
 * ```
 */
export type ExpressAdminOptions = VisitorAdminOptions<Request>;

/**
 * The admin pages as a router, mounted wherever the app likes, e.g.
 * `app.use("/admin/visitors", visitorAdmin(passes, { authorize: (req) => req.user?.isAdmin }))`.
 * `authorize(req)` is required; it parses its own form posts (up to 64 kB).
 *
 * @example
 * ```ts
 * import { visitorAdmin } from "visitor-pass/express";
 *
 * app.use(
 *   "/admin/visitors",
 *   visitorAdmin(passes, { authorize: (req) => req.session.user?.isStaff === true }),
 * );
 * ```
 */
export function visitorAdmin(passes: VisitorPass, options: ExpressAdminOptions): Router {
  const admin = new VisitorAdmin<Request>(passes, options, "visitorAdmin()");
  const router = Router();
  router.use(
    urlencoded({ extended: false, limit: ADMIN_BODY_LIMIT, parameterLimit: ADMIN_FIELD_LIMIT }),
  );
  router.use(async (req, res, next) => {
    try {
      sendPage(res, await admin.handle(describe(req), req));
    } catch (error) {
      next(error);
    }
  });
  return router;
}

function describe(req: Request): AdminRequest {
  const url = new URL(req.url, "http://admin.invalid");
  return {
    method: req.method,
    path: url.pathname,
    query: url.searchParams,
    form: req.method === "POST" ? ((req.body as Record<string, unknown> | undefined) ?? {}) : null,
    origin: req.get("origin") ?? null,
    secFetchSite: req.get("sec-fetch-site") ?? null,
    host: req.get("host") ?? null,
    baseUrl: `${req.protocol}://${req.get("host") ?? "localhost"}`,
    mount: req.baseUrl,
  };
}
