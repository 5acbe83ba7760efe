/** A framework-free response the core decided on; each adapter writes it as it is. */
export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers of the package's own HTML pages: never cached, framed, or leaking the URL onward. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

export function htmlPage(status: number, body: string | { toString(): string }): PageResponse {
  return { status, headers: { ...PAGE_HEADERS }, body: String(body) };
}

export function textPage(status: number, body: string): PageResponse {
  return {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
    body,
  };
}
