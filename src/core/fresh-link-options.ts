import { VisitorPassConfigError } from "./errors.js";
import type { VisitorStore } from "./ports.js";
import type { SendLink } from "./send-link.js";
import type { Visitor } from "./visitor.js";

/**
 * The `freshLinks` option.
 *
 * @example
 * ```ts
 * const freshLinks: FreshLinksOptions = {
 *   scopes: ["REFERENCE_REQUEST"], // or true for every scope
 *   baseUrl: "https://app.example", // the new link's origin: never the request's Host header
 *   page: ({ action, sent }) => (sent ? "<p>Check your inbox.</p>" : `<form method="post" action="${escapeHtml(action)}"><button>Send me a new link</button></form>`),
 * };
 * ```
 */
export interface FreshLinksOptions {
  /**
   * The scopes whose expired or used-up links offer a fresh one; `true` for every scope. Passes
   * created with `freshLinks: true` offer one whatever their scope.
   * @default [] (only passes created with `freshLinks: true`)
   */
  scopes?: true | readonly string[];
  /**
   * The origin the new link is built on (`https://app.example`), with the path of the link that
   * expired. Never taken from the request: a forged `Host` header would mail a link to another
   * site.
   * @default the `baseUrl` option of `createVisitorPass` (one of the two is needed)
   */
  baseUrl?: string;
  /** Renders the offer page and its answer (whole HTML documents) in place of the built-in one. */
  page?: FreshLinkPageRenderer;
}

/** What a fresh-link page is given: nothing of the pass, which the page must never reveal. */
export interface FreshLinkPageContext {
  /** Where the offer's form must POST (the same URL, marked as asking for a fresh link). */
  action: string;
  /**
   * `false`: the offer (the link no longer works; ask for a new one). `true`: the answer to the
   * request, the same whether or not a link was sent.
   */
  sent: boolean;
}

/** Renders a fresh-link page: the whole HTML document. */
export type FreshLinkPageRenderer = (context: FreshLinkPageContext) => string;

/** The `freshLinks` option, checked. */
export interface ResolvedFreshLinks {
  /** Whether `visitor` may be sent a fresh link (by its scope, or its own opt-in). */
  offers(visitor: Visitor): boolean;
  /** The origin new links are built on, without a trailing slash. */
  origin: string;
  page: FreshLinkPageRenderer;
}

/**
 * The `freshLinks` option checked: `null` when it is not given. Needs `sendLink` (fresh links are
 * sent, never shown) and, for a store handed in, its `renew()`.
 */
export function resolveFreshLinks(
  value: unknown,
  sendLink: SendLink | null,
  store: VisitorStore | null,
  defaultPage: FreshLinkPageRenderer | undefined,
  baseUrl: string | null = null,
): ResolvedFreshLinks | null {
  if (value === undefined || value === null || value === false) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new VisitorPassConfigError(
      "freshLinks",
      value,
      "expected { baseUrl, scopes?, page? } (or leave it out)",
    );
  }
  const options = value as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!["scopes", "baseUrl", "page"].includes(key)) {
      throw new VisitorPassConfigError(
        `freshLinks.${key}`,
        options[key],
        "unknown option; use scopes, baseUrl, page",
      );
    }
  }
  if (!sendLink) {
    throw new VisitorPassConfigError(
      "freshLinks",
      value,
      "needs the sendLink option: fresh links are sent, never shown",
    );
  }
  if (store && typeof store.renew !== "function") {
    throw new VisitorPassConfigError(
      "freshLinks",
      value,
      "the store given has no renew() method, which fresh links need",
    );
  }
  const scopes = options.scopes ?? [];
  let offersScope: (scope: string) => boolean;
  if (scopes === true) offersScope = () => true;
  else if (
    Array.isArray(scopes) &&
    scopes.every((scope) => typeof scope === "string" && scope.trim() !== "")
  ) {
    const set = new Set<string>(scopes);
    offersScope = (scope) => set.has(scope);
  } else {
    throw new VisitorPassConfigError(
      "freshLinks.scopes",
      scopes,
      "expected true or a list of scopes",
    );
  }
  // Its own, else the service's `baseUrl` (already checked as an origin).
  const origin =
    options.baseUrl === undefined && baseUrl !== null ? baseUrl : baseOrigin(options.baseUrl);
  if (options.page !== undefined && typeof options.page !== "function") {
    throw new VisitorPassConfigError("freshLinks.page", options.page, "must be a function");
  }
  const page = (options.page as FreshLinkPageRenderer | undefined) ?? defaultPage;
  if (!page) {
    throw new VisitorPassConfigError("freshLinks.page", options.page, "a page renderer is needed");
  }
  return Object.freeze({
    offers: (visitor: Visitor) => visitor.freshLinks || offersScope(visitor.scope),
    origin,
    page,
  });
}

/** An `http(s)` origin (a path of "/" at most): where links are built, never from a request. */
function baseOrigin(value: unknown): string {
  let url: URL | null = null;
  try {
    if (typeof value === "string") url = new URL(value);
  } catch {
    url = null;
  }
  if (
    !url ||
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.username !== "" ||
    url.password !== "" ||
    url.pathname !== "/" ||
    url.search !== "" ||
    url.hash !== ""
  ) {
    throw new VisitorPassConfigError(
      "freshLinks.baseUrl",
      value,
      'expected the app\'s origin, like "https://app.example" (http or https, no path or query)',
    );
  }
  return url.origin;
}
