import type { Response } from "express";
import type { PageResponse } from "../../core/page.js";
import type { Respond } from "../../core/request-flow.js";

/** Writes a response the core decided on: a page, or a redirect. */
export function sendPage(res: Response, page: PageResponse | Respond): void {
  res.set(page.headers);
  if ("location" in page && page.location !== null) res.redirect(page.status, page.location);
  else res.status(page.status).send(page.body);
}
