import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { VisitorPass } from "../../core/visitor-pass.js";
import {
  ADMIN_BODY_LIMIT,
  type AdminRequest,
  splitMount,
  VisitorAdmin,
  type VisitorAdminOptions,
} from "../../features/admin/admin.js";
import { sendPage } from "./fastify-response.js";

/**
 * Options of the `visitorAdmin` plugin for Fastify: `authorize` receives Fastify's `request`.
 *
 * @example
 * ```ts
 * await app.register(visitorAdmin, {
 *   passes,
 *   prefix: "/admin/visitors",
 *   authorize: (request) => request.session.get("user")?.isStaff === true,
 * });
 * ```
 */
export interface FastifyAdminOptions extends VisitorAdminOptions<FastifyRequest> {
  /** The object `createVisitorPass()` returned. */
  passes: VisitorPass;
}

const FORM = "application/x-www-form-urlencoded";

/**
 * The admin pages as a plugin, registered under the prefix the app likes, e.g.
 * `fastify.register(visitorAdmin, { passes, authorize: (request) => …, prefix: "/admin/visitors" })`.
 * `authorize(request)` is required; it parses its own form posts (up to 64 kB).
 *
 * @example
 * ```ts
 * import { visitorAdmin } from "visitor-pass/fastify";
 *
 * await app.register(visitorAdmin, {
 *   passes,
 *   prefix: "/admin/visitors",
 *   authorize: (request) => request.session.get("user")?.isStaff === true,
 * });
 * ```
 */
export const visitorAdmin: FastifyPluginAsync<FastifyAdminOptions> = async (fastify, options) => {
  const admin = new VisitorAdmin<FastifyRequest>(options?.passes, options, "visitorAdmin");

  if (!fastify.hasContentTypeParser(FORM)) {
    fastify.addContentTypeParser(
      FORM,
      { parseAs: "string", bodyLimit: ADMIN_BODY_LIMIT },
      (_request, body, done) => done(null, formFields(new URLSearchParams(body as string))),
    );
  }

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const page = await admin.handle(describe(request), request);
    return sendPage(reply, page);
  };
  fastify.route({ method: ["GET", "POST"], url: "/", handler });
  fastify.route({ method: ["GET", "POST"], url: "/*", handler });
};

function formFields(params: URLSearchParams): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    fields[key] = values.length === 1 ? values[0]! : values;
  }
  return fields;
}

function describe(request: FastifyRequest): AdminRequest {
  const url = new URL(request.url, "http://admin.invalid");
  const header = (name: string) => {
    const value = request.headers[name];
    return (Array.isArray(value) ? value[0] : value) ?? null;
  };
  const { mount, path } = splitMount(request.routeOptions.url ?? "/*", url.pathname);
  const body = request.body;
  return {
    method: request.method,
    path,
    query: url.searchParams,
    form:
      request.method === "POST"
        ? body && typeof body === "object"
          ? (body as Record<string, unknown>)
          : {}
        : null,
    origin: header("origin"),
    secFetchSite: header("sec-fetch-site"),
    host: header("host"),
    baseUrl: `${request.protocol}://${header("host") ?? "localhost"}`,
    mount,
  };
}
