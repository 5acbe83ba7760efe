import { randomUUID } from "node:crypto";
import type { ResolvedConfig, ResolvedFreshLinks } from "./config.js";
import { isCrossSite, type OriginHeaders } from "./cross-site.js";
import type { PassEvents } from "./events.js";
import type { LinkSender } from "./link-outbox.js";
import { htmlPage, PAGE_HEADERS, type PageResponse, textPage } from "./page.js";
import type { PassRecords } from "./pass-records.js";
import type { VisitRequest } from "./ports.js";
import type { LinkMessage } from "./send-link.js";
import type { Throttles } from "./throttle.js";
import { addToken, localPath, stripToken } from "./tokens.js";
import type { Visitor } from "./visitor.js";

/** What the fresh-link offer asks of the pass service. */
export interface FreshLinkBackend {
  readonly config: ResolvedConfig;
  find(uuid: string): Promise<Visitor | null>;
  /** Counts one request for a fresh link from `ip`: `null` when allowed, else seconds to wait. */
  freshLinkThrottled(ip: string | null): Promise<number | null>;
  /**
   * Renews the pass `token` names and sends its new link to the address on file, if it may be,
   * after the current request is answered (which never waits for it, nor fails with it).
   * `path`: the path (and query) of the link that no longer works, on which the new one is built.
   */
  sendFreshLink(token: string, path: string): void;
  /** The HTML page of a 429 (`VisitorPassThrottled`): wait `retryAfter` seconds. */
  throttledPage(retryAfter: number): string;
}

/**
 * The fresh-link offer of the request flow: the page a link that no longer admits lands on, and
 * the same-site POST that asks for a new link. What it answers never depends on the pass: the
 * same page and the same answer whether the token names nobody, a pass that is expired, used up,
 * deactivated or not offered fresh links, or one over its throttle. Only the per-network
 * throttle answers otherwise (429), whatever the token.
 */
export class FreshLinkOffer {
  readonly #backend: FreshLinkBackend;
  readonly #options: ResolvedFreshLinks;
  /** The query parameter marking a request for a fresh link. */
  readonly key: string;

  constructor(backend: FreshLinkBackend, options: ResolvedFreshLinks) {
    this.#backend = backend;
    this.#options = options;
    this.key = `${backend.config.querystringKey}-fresh`;
  }

  /**
   * The offer page for a landing whose token admitted nobody, or `null` when the token names a
   * pass that is not offered fresh links (the landing then goes on as before). A token naming no
   * pass gets the page too, so that the page tells nothing of whether a pass exists.
   */
  async offer(token: string, request: VisitRequest): Promise<PageResponse | null> {
    const visitor = await this.#backend.find(token);
    if (visitor && !this.#options.offers(visitor)) return null;
    return this.#page({ action: this.#action(this.#pathOf(request.url), token), sent: false });
  }

  /**
   * The answer to a POST asking for a fresh link: refused (403) from another site, 429 over the
   * network's budget, else the same page whatever the token, the link (if any) sent afterwards.
   */
  async request(token: string, request: VisitRequest): Promise<PageResponse> {
    if (isCrossSite(originOf(request))) {
      return textPage(403, "Cross-site request refused.");
    }
    const retryAfter = await this.#backend.freshLinkThrottled(request.ip);
    if (retryAfter !== null) {
      const page = htmlPage(429, this.#backend.throttledPage(retryAfter));
      page.headers["Retry-After"] = String(retryAfter);
      return page;
    }
    const path = this.#pathOf(request.url);
    this.#backend.sendFreshLink(token, path);
    return this.#page({ action: this.#action(path, token), sent: true });
  }

  /** Where the offer's form posts: the link's own URL, marked as asking for a fresh link. */
  #action(path: string, token: string): string {
    return addToken(addToken(path, this.#backend.config.querystringKey, token), this.key, "1");
  }

  /** The request's path on this site, without its token or the fresh-link marker. */
  #pathOf(url: string): string {
    const key = this.#backend.config.querystringKey;
    return localPath(stripToken(stripToken(url, key), this.key));
  }

  #page(context: { action: string; sent: boolean }): PageResponse {
    return { status: 200, headers: { ...PAGE_HEADERS }, body: this.#options.page(context) };
  }
}

function originOf(request: VisitRequest): OriginHeaders {
  return {
    origin: request.origin ?? null,
    secFetchSite: request.secFetchSite ?? null,
    host: request.host ?? null,
  };
}

/**
 * Renews passes and sends their fresh links: what a request for one does once it is answered,
 * through `links` (which defers the work, tracks it for shutdown and reports its failures).
 */
export class FreshLinkSender {
  constructor(
    readonly config: ResolvedConfig,
    readonly records: PassRecords,
    readonly throttles: Throttles,
    readonly events: PassEvents,
    readonly links: LinkSender,
  ) {}

  /** Starts the work for one request, after the current one (never inside it). */
  send(token: string, path: string): void {
    this.links.send(
      { prepare: () => this.#renew(token, path), failure: "could not send a fresh link" },
      ({ visitor }) => this.events.fire("freshLinkSent", { visitor }),
    );
  }

  /** Renews the pass `token` names and builds its new link, or `null` when none is to be sent. */
  async #renew(token: string, path: string): Promise<LinkMessage | null> {
    const { freshLinks } = this.config;
    if (!freshLinks) return null;
    const visitor = await this.records.find(token);
    if (!visitor?.isActive || visitor.email === "" || !freshLinks.offers(visitor)) {
      return null;
    }
    // A valid link needs no fresh one (and renewing it would end it).
    if (visitor.isValid && (visitor.maxUses === null || visitor.uses < visitor.maxUses)) {
      return null;
    }
    if ((await this.throttles.consumeKey("freshLinkPass", String(visitor.id))) !== null) {
      return null;
    }
    const address = visitor.email.toLowerCase();
    if ((await this.throttles.consumeKey("freshLinkAddress", address)) !== null) return null;
    const now = this.config.now();
    const newToken = randomUUID();
    const expiresAt = new Date(now.getTime() + this.config.tokenExpiry * 1000);
    // Conditional and atomic: of two concurrent requests, one renews; the other finds nothing.
    const renewed = await this.records.renew(token, newToken, now, expiresAt);
    if (!renewed) return null;
    const url = `${freshLinks.origin}${addToken(path, this.config.querystringKey, newToken)}`;
    return { visitor: renewed, url, reason: "freshLink" };
  }
}
