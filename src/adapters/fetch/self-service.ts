import type { PageResponse } from "../../core/page.js";
import { selfServiceOf, type VisitorPass } from "../../core/visitor-pass.js";
import {
  SELF_SERVICE_BODY_LIMIT,
  SelfService,
  type SelfServiceOptions,
} from "../../features/self-service/self-service.js";

export type { SelfServiceOptions } from "../../features/self-service/self-service.js";

/**
 * The self-service pages over Web `Request`/`Response`, at `passes.config.selfServicePath`:
 * answers the form's GET and POST and the page after it, and `null` for any other request, which
 * the app then serves itself. Submissions over 16 KiB are refused with 413 without being read
 * further.
 *
 * @example
 * ```ts
 * import { selfService } from "visitor-pass/fetch";
 *
 * const selfServicePages = selfService(passes); // at passes.config.selfServicePath
 *
 * async function fetch(request: Request): Promise<Response> {
 *   const page = await selfServicePages(request, { clientAddress: "203.0.113.7" }); // the client's
 *   if (page) return page;
 *   // …the app's own routes…
 *   return new Response("Not found", { status: 404 });
 * }
 * ```
 */
export function selfService(
  passes: VisitorPass,
  options: SelfServiceOptions = {},
): (request: Request, context?: { clientAddress?: string | null }) => Promise<Response | null> {
  const service = new SelfService(selfServiceOf(passes, "selfService()"), options);
  const base = passes.config.selfServicePath === "/" ? "" : passes.config.selfServicePath;
  const prefix = `${base}/self-service/`;
  return async (request, context = {}) => {
    const { pathname } = new URL(request.url);
    if (!pathname.startsWith(prefix)) return null;
    const uuid = pathname.slice(prefix.length);
    const method = request.method.toUpperCase();
    if (uuid === "sent" && (method === "GET" || method === "HEAD")) return page(service.sent());
    if (uuid === "" || uuid.includes("/")) return null;
    if (method === "GET" || method === "HEAD") return page(await service.form(uuid, request.url));
    if (method !== "POST") return null;
    const headers = request.headers;
    const tooLarge = service.refuseLength(headers.get("content-length"));
    if (tooLarge) return page(tooLarge);
    const bytes = await readAtMost(request, SELF_SERVICE_BODY_LIMIT);
    if (bytes === null) return page(service.tooLarge());
    const submission = {
      origin: headers.get("origin"),
      secFetchSite: headers.get("sec-fetch-site"),
      host: headers.get("host") ?? new URL(request.url).host,
      contentLength: headers.get("content-length"),
      ip: context.clientAddress ?? null,
    };
    return page(await service.submit(uuid, await fields(bytes, headers), submission));
  };
}

function page(response: PageResponse): Response {
  return new Response(response.body || null, {
    status: response.status,
    headers: response.headers,
  });
}

/** The body's bytes, or `null` once it is longer than `limit` (reading no further). */
async function readAtMost(request: Request, limit: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** The form's text fields; a body that is no form gives none (the form then says what is missing). */
async function fields(bytes: Uint8Array, headers: Headers): Promise<Record<string, string>> {
  const type = headers.get("content-type");
  if (!type) return {};
  try {
    const form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": type },
    }).formData();
    const values: Record<string, string> = {};
    form.forEach((value, key) => {
      if (typeof value === "string") values[key] = value;
    });
    return values;
  } catch {
    return {};
  }
}
