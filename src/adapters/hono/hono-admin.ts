import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { VisitorPassUnavailable } from "../../core/errors.js";
import type { VisitorPass } from "../../core/visitor-pass.js";
import {
  ADMIN_BODY_LIMIT,
  type AdminRequest,
  splitMount,
  VisitorAdmin,
  type VisitorAdminOptions,
} from "../../features/admin/admin.js";
import { pageResponse } from "./hono-response.js";

/**
 * Options of `visitorAdmin` for Hono: `authorize` receives Hono's context.
 *
 * @example
 * ```ts
 * app.route("/admin/visitors", visitorAdmin(passes, { authorize: (c) => c.var.user?.isStaff === true }));
 * ```
 */
export type HonoAdminOptions = VisitorAdminOptions<Context>;

/**
 * The admin pages as a sub-app, mounted wherever the app likes, e.g.
 * `app.route("/admin/visitors", visitorAdmin(passes, { authorize: (c) => … }))`.
 * `authorize(c)` is required; form posts are read up to 64 kB.
 *
 * @example
 * ```ts
 * import { visitorAdmin } from "visitor-pass/hono";
 *
 * app.route(
 *   "/admin/visitors",
 *   visitorAdmin(passes, { authorize: (c) => c.var.user?.isStaff === true }),
 * );
 * ```
 */
export function visitorAdmin(passes: VisitorPass, options: HonoAdminOptions): Hono {
  const admin = new VisitorAdmin<Context>(passes, options, "visitorAdmin()");
  const app = new Hono();
  app.on(
    ["GET", "POST"],
    "/*",
    bodyLimit({ maxSize: ADMIN_BODY_LIMIT, onError: (c) => c.text("Payload too large.", 413) }),
    async (c) => {
      try {
        return pageResponse(await admin.handle(await describe(c), c));
      } catch (error) {
        // As the guards do: Hono's own error handling answers an HTTPException with its status.
        if (error instanceof VisitorPassUnavailable) {
          throw new HTTPException(503, { message: error.message, cause: error });
        }
        throw error;
      }
    },
  );
  return app;
}

async function describe(c: Context): Promise<AdminRequest> {
  const url = new URL(c.req.url);
  // The route matched is `<mount>/*`: what comes before the wildcard is where the app mounted us.
  const { mount, path } = splitMount(c.req.routePath, url.pathname);
  let form: Record<string, unknown> | null = null;
  if (c.req.method === "POST") {
    try {
      form = (await c.req.parseBody({ all: true })) as Record<string, unknown>;
    } catch {
      form = {};
    }
  }
  return {
    method: c.req.method,
    path,
    query: url.searchParams,
    form,
    origin: c.req.header("origin") ?? null,
    secFetchSite: c.req.header("sec-fetch-site") ?? null,
    host: c.req.header("host") ?? null,
    baseUrl: url.origin,
    mount,
  };
}
