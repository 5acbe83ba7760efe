/** The request headers that tell where a form submission came from. */
export interface OriginHeaders {
  origin: string | null;
  secFetchSite: string | null;
  host: string | null;
}

/**
 * Whether a state-changing request came from another site. Modern browsers say so in
 * `Sec-Fetch-Site`; otherwise `Origin` must name this host. Requests with neither (non-browser
 * clients) are not cross-site: a browser always sends one of them on a cross-site POST.
 */
export function isCrossSite(headers: OriginHeaders): boolean {
  if (headers.secFetchSite) {
    return headers.secFetchSite !== "same-origin" && headers.secFetchSite !== "none";
  }
  if (!headers.origin) return false;
  try {
    return new URL(headers.origin).host !== headers.host;
  } catch {
    return true;
  }
}
