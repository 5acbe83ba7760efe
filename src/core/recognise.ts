import { NEVER_CONFIRM, type ResolvedConfig } from "./config.js";
import { isCrossSite, type OriginHeaders } from "./cross-site.js";
import {
  MalformedVisitorToken,
  type VisitorPassThrottled,
  type VisitorPassUnavailable,
} from "./errors.js";
import { type FreshLinkBackend, FreshLinkOffer } from "./fresh-links.js";
import type { MaybePromise } from "./guard.js";
import { htmlPage, type PageResponse, textPage } from "./page.js";
import type { RequestContext, SessionPort, VisitRequest } from "./ports.js";
import { type SessionStash, unavailable } from "./session-stash.js";
import { addToken, hasParam, localPath, readToken } from "./tokens.js";
import type { Visitor } from "./visitor.js";

/** What recognising a token asks of the pass service. */
export interface RecogniseBackend extends FreshLinkBackend {
  readonly config: ResolvedConfig;
  find(uuid: string): Promise<Visitor | null>;
  /** Spends one use of the pass `token` names, atomically: the visitor, or null if it cannot. */
  spendUse(token: string): Promise<Visitor | null>;
  /**
   * Before a token is looked at: the answer for a client network over its budget of failed
   * landings (whatever the token: a valid one must not be told apart), else `null`.
   */
  landingThrottled(ip: string | null): Promise<Extract<Recognition, { kind: "throttled" }> | null>;
  /** A landing whose token admitted nobody: counted against its network's budget. */
  landingRefused(ip: string | null): Promise<Extract<Recognition, { kind: "refused" }>>;
}

/** What a token on a request came to. */
export type Recognition =
  /** No token on the request. */
  | { kind: "none" }
  /**
   * A token on a request that cannot admit: hidden from the app, not used, the session left as
   * it was. Only a GET, or the confirmation page's POST from this same site, admits: a token on
   * any other request (HEAD, a PUT, a plain POST, a confirming POST from another site) could be
   * a hostile site's form planting its own pass ("login CSRF"), or a scanner.
   */
  | { kind: "ignored" }
  /** A token that is not a uuid: answer with `page` (400, "Malformed visitor token."). */
  | { kind: "malformed"; error: MalformedVisitorToken; page: PageResponse }
  /**
   * Admitted: `spent` tells whether a use was spent; `false` when the session already held this
   * very pass, which then keeps its admission as it was (no new lifetime). `confirmed`: it came
   * through the confirmation page's POST.
   */
  | { kind: "admitted"; visitor: Visitor; spent: boolean; confirmed?: boolean }
  /** The pass needs a click first: answer with this page, which POSTs back to confirm. */
  | { kind: "confirm"; visitor: Visitor; page: PageResponse }
  /** Unknown, inactive, expired or used up: the request goes on as anonymous. */
  | { kind: "refused" }
  /**
   * Fresh links (`freshLinks`): the offer page of a link that no longer admits, or the answer to
   * the request for a new one. Answer with `page`.
   */
  | { kind: "freshLink"; page: PageResponse }
  /** Ignored: the session already holds a different visitor or a user (`onConflict: "keep"`). */
  | { kind: "kept" }
  /** Too many failed landings from this client network: answer with `page` (429, `Retry-After`). */
  | { kind: "throttled"; error: VisitorPassThrottled; page: PageResponse }
  | { kind: "unavailable"; error: VisitorPassUnavailable };

export const NO_TOKEN: Recognition = Object.freeze({ kind: "none" });
const IGNORED: Recognition = Object.freeze({ kind: "ignored" });

/**
 * Recognising the token on a request: which requests may admit (a GET, or the same-site
 * confirming POST), the confirmation page, the conflict policy, and spending a use.
 */
export class Recogniser {
  readonly #backend: RecogniseBackend;
  readonly #stash: SessionStash;
  readonly #fresh: FreshLinkOffer | null;
  /** The query parameter marking a confirming POST. */
  readonly confirmKey: string;

  constructor(backend: RecogniseBackend, stash: SessionStash) {
    this.#backend = backend;
    this.#stash = stash;
    this.confirmKey = `${backend.config.querystringKey}-confirm`;
    const { freshLinks } = backend.config;
    this.#fresh = freshLinks ? new FreshLinkOffer(backend, freshLinks) : null;
  }

  /** The query parameter marking a request for a fresh link, or `null` without `freshLinks`. */
  get freshKey(): string | null {
    return this.#fresh?.key ?? null;
  }

  get #config(): ResolvedConfig {
    return this.#backend.config;
  }

  /**
   * What the token on `request` (if any) comes to. Never throws: a bad token and a failing store
   * are outcomes.
   */
  recognise(
    request: VisitRequest,
    session: SessionPort | null,
    context: RequestContext,
  ): MaybePromise<Recognition> {
    let token: string | null;
    try {
      token = readToken(request.url, this.#config.querystringKey);
    } catch (error) {
      if (error instanceof MalformedVisitorToken) {
        return { kind: "malformed", error, page: textPage(error.status, error.message) };
      }
      throw error;
    }
    if (token === null) return NO_TOKEN;
    const method = request.method.toUpperCase();
    if (method === "GET") return this.#recogniseToken(token, false, request, session, context);
    if (method === "POST" && this.#fresh && hasParam(request.url, this.#fresh.key)) {
      return this.#freshLink(this.#fresh.request(token, request));
    }
    // Only the confirmation page's POST, from this same site, admits besides a GET.
    if (method !== "POST" || !hasParam(request.url, this.confirmKey)) return IGNORED;
    if (isCrossSite(originOf(request))) return IGNORED;
    return this.#recogniseToken(token, true, request, session, context);
  }

  async #recogniseToken(
    token: string,
    confirming: boolean,
    request: VisitRequest,
    session: SessionPort | null,
    context: RequestContext,
  ): Promise<Recognition> {
    try {
      const alreadyHeld = await this.#alreadyHeld(token, session);
      if (alreadyHeld) {
        return { kind: "admitted", visitor: alreadyHeld, spent: false, confirmed: confirming };
      }
      const throttled = await this.#backend.landingThrottled(request.ip);
      if (throttled) return throttled;
      if (this.#config.onConflict === "keep") {
        if (context.authenticated) return { kind: "kept" };
        // Another pass the session holds (and still honours) stays: a link cannot replace it.
        if (session && (await this.#stash.restore(session)) !== null) return { kind: "kept" };
      }
      if (!confirming) {
        const confirm = await this.#confirmation(token, request);
        if (confirm) return confirm;
      }
      const visitor = await this.#backend.spendUse(token);
      if (!visitor) {
        const refused = await this.#backend.landingRefused(request.ip);
        const offer = this.#fresh ? await this.#fresh.offer(token, request) : null;
        return offer ? { kind: "freshLink", page: offer } : refused;
      }
      return { kind: "admitted", visitor, spent: true, confirmed: confirming };
    } catch (error) {
      return { kind: "unavailable", error: unavailable(error) };
    }
  }

  async #freshLink(answer: Promise<PageResponse>): Promise<Recognition> {
    try {
      return { kind: "freshLink", page: await answer };
    } catch (error) {
      return { kind: "unavailable", error: unavailable(error) };
    }
  }

  /**
   * The pass `token` names when the session already holds it, still active and within the
   * session lifetime of its admission: nothing to spend, and nothing to renew. A held admission
   * that lapsed is forgotten here, so that the link (if it still can) admits afresh.
   */
  async #alreadyHeld(token: string, session: SessionPort | null): Promise<Visitor | null> {
    if (!session || !this.#stash.holds(session, token)) return null;
    return this.#stash.held(session, await this.#backend.find(token));
  }

  /** The confirmation page for a valid pass that needs one; `null` otherwise. */
  async #confirmation(token: string, request: VisitRequest): Promise<Recognition | null> {
    if (this.#config.needsConfirmation === NEVER_CONFIRM) return null;
    const visitor = await this.#backend.find(token);
    if (!visitor?.isValid || !this.#config.needsConfirmation(visitor)) return null;
    if (visitor.maxUses !== null && visitor.uses >= visitor.maxUses) return null;
    // Always a path on this site: a request path starting with `//` must not make it a host.
    const action = addToken(localPath(request.url), this.confirmKey, "1");
    const page = htmlPage(200, this.#config.confirmPage({ visitor, action }));
    return { kind: "confirm", visitor, page };
  }
}

function originOf(request: VisitRequest): OriginHeaders {
  return {
    origin: request.origin ?? null,
    secFetchSite: request.secFetchSite ?? null,
    host: request.host ?? null,
  };
}
