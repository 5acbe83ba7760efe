import type { Response } from "express";
import type { PageResponse } from "../../core/page.js";

/** Writes a page the core decided on. */
export function sendPage(res: Response, page: PageResponse): void {
  res.status(page.status).set(page.headers).send(page.body);
}
