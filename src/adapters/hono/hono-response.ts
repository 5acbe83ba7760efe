import type { PageResponse } from "../../core/page.js";

/** A page the core decided on, as a Web `Response`. */
export function pageResponse(page: PageResponse): Response {
  return new Response(page.body, { status: page.status, headers: page.headers });
}
