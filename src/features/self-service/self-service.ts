import type { ResolvedConfig } from "../../core/config.js";
import { isCrossSite, type OriginHeaders } from "../../core/cross-site.js";
import { VisitorPassError } from "../../core/errors.js";
import { htmlPage, type PageResponse } from "../../core/page.js";
import type { SelfServiceBackend } from "../../core/ports.js";
import { isUuid } from "../../core/tokens.js";
import type { Visitor } from "../../core/visitor.js";
import { defaultPages, type SelfServicePages } from "../../ui/self-service/self-service-pages.js";
import {
  extraValues,
  MAX_EXTRA_FIELDS,
  parseExtras,
  type ResolvedField,
  resolveFields,
} from "./self-service-fields.js";
import { checkInitial, initialValues, type SelfServiceOptions } from "./self-service-options.js";
import {
  defaultMessages,
  parseSubmission,
  type SelfServiceMessages,
  selfServiceSchema,
  submittedValues,
} from "./self-service-schema.js";
import { checkSuccessOptions, redirectFor, successPageFor } from "./self-service-success.js";

export type { SelfServiceInitial, SelfServiceOptions } from "./self-service-options.js";

/**
 * The largest self-service form submission read, in bytes: the form's three fields take well
 * under 1 kB. Every adapter refuses a larger one with 413, however the body was parsed.
 */
export const SELF_SERVICE_BODY_LIMIT = 16 * 1024;

/** The most fields a submission's parser reads: the built-in ones, the extra ones, and spare. */
export const SELF_SERVICE_PARAMETER_LIMIT = 3 + MAX_EXTRA_FIELDS + 13;

/** What the form's POST brings besides its body. */
export interface SelfServiceSubmission extends OriginHeaders {
  /** The `Content-Length` header, as sent (absent for a chunked body). */
  contentLength?: string | number | null;
  /** The client address, as the framework resolves it. */
  ip?: string | null;
}

export type { SelfServiceBackend } from "../../core/ports.js";

type Pending =
  | { state: "pending"; visitor: Visitor }
  | { state: "notFound" | "completed" | "expired" | "unavailable" };

/**
 * The self-service form, decided once for every framework: show it for a pending pass, validate
 * a submission, claim the pass and tell the app, or say plainly why not.
 */
export class SelfService {
  readonly #backend: SelfServiceBackend;
  readonly #pages: SelfServicePages;
  readonly #schema: ReturnType<typeof selfServiceSchema>;
  readonly #messages: SelfServiceMessages;
  readonly #fields: ResolvedField[];
  readonly #options: SelfServiceOptions;
  /** The most characters of each field's value shown on the form. */
  readonly #limits: Record<string, number>;

  constructor(backend: SelfServiceBackend, options: SelfServiceOptions = {}) {
    this.#backend = backend;
    this.#options = options;
    const { throttledPage } = backend.config;
    this.#pages = {
      ...defaultPages,
      // The app's 429 page (`throttledPage` option), unless this form has its own.
      ...(throttledPage && { throttled: (retryAfter: number) => throttledPage({ retryAfter }) }),
      ...options.pages,
    };
    this.#messages = { ...defaultMessages, ...options.messages };
    this.#fields = resolveFields(options.fields);
    checkSuccessOptions(options.successRedirect, options.successPage);
    checkInitial(options.initial);
    this.#limits = { firstName: 150, lastName: 150, email: 254 };
    for (const field of this.#fields) this.#limits[field.name] = field.maxLength;
    this.#schema = selfServiceSchema(
      this.#messages,
      backend.config.selfServiceRefusedDomains,
      options.messages?.emailRefused,
    );
  }

  /** Where the form lives for a pending pass (and where the success page is). */
  static formPath(config: ResolvedConfig, uuid: string): string {
    return `${config.selfServicePath === "/" ? "" : config.selfServicePath}/self-service/${uuid}`;
  }

  /** The form for the pending pass `uuid`; `url`, the request's, gives `initial` its query. */
  async form(uuid: string, url = ""): Promise<PageResponse> {
    const pending = await this.#pending(uuid);
    if (pending.state !== "pending") return this.#refusal(pending.state);
    const values = await initialValues(
      this.#options.initial,
      this.#limits,
      url,
      pending.visitor,
      this.#backend.config.logger,
    );
    return this.#formPage(200, pending.visitor, values, {});
  }

  /**
   * The 413 page when a submission's `Content-Length` says it is over `SELF_SERVICE_BODY_LIMIT`,
   * else `null`: adapters ask before reading the body.
   */
  refuseLength(contentLength: string | number | null | undefined): PageResponse | null {
    return declaredLength(contentLength) > SELF_SERVICE_BODY_LIMIT ? this.tooLarge() : null;
  }

  /** The 413 page. */
  tooLarge(): PageResponse {
    return this.#page(413, this.#pages.tooLarge());
  }

  /**
   * A submission of the form: refused when too large (413; by its `Content-Length`, or by the
   * size of the parsed fields when the app's own parser read a body sent without one), over the
   * network's budget (429), or from another site (403); otherwise validated, and the pass claimed.
   */
  async submit(uuid: string, body: unknown, request: SelfServiceSubmission): Promise<PageResponse> {
    const tooLarge = this.refuseLength(request.contentLength);
    if (tooLarge) return tooLarge;
    if (parsedSize(body) > SELF_SERVICE_BODY_LIMIT) return this.tooLarge();
    let retryAfter: number | null;
    try {
      retryAfter = await this.#backend.throttle("selfServiceForm", request.ip ?? null);
    } catch {
      return this.#refusal("unavailable");
    }
    if (retryAfter !== null) {
      const page = this.#page(429, this.#pages.throttled(retryAfter));
      return { ...page, headers: { ...page.headers, "Retry-After": String(retryAfter) } };
    }
    if (isCrossSite(request)) return this.#page(403, this.#pages.crossSite());
    const pending = await this.#pending(uuid);
    if (pending.state !== "pending") return this.#refusal(pending.state);
    const values = submittedValues(body);
    const extras = extraValues(this.#fields, body);
    const parsed = parseSubmission(this.#schema, values);
    const parsedExtras = parseExtras(this.#fields, extras, this.#messages);
    if (!parsed.ok || !parsedExtras.ok) {
      const errors = {
        ...(parsed.ok ? {} : parsed.errors),
        ...(parsedExtras.ok ? {} : parsedExtras.errors),
      };
      // The built-in fields' refusals keep the 200 they always had; the app's own fields', 400.
      const status = parsedExtras.ok ? 200 : 400;
      return this.#formPage(status, pending.visitor, { ...extras, ...values }, errors);
    }
    let claimed: Visitor | null;
    try {
      claimed = await this.#backend.claim(pending.visitor, parsed.fields, parsedExtras.context);
    } catch (error) {
      if (error instanceof VisitorPassError) throw error;
      return this.#refusal("unavailable");
    }
    if (!claimed) return this.#refusal("completed");
    this.#backend.created(claimed);
    this.#backend.sendLink(claimed);
    return this.#success(claimed);
  }

  async #success(visitor: Visitor): Promise<PageResponse> {
    const { successPage, successRedirect } = this.#options;
    const logger = this.#backend.config.logger;
    if (successPage) {
      const body = await successPageFor(successPage, visitor, logger);
      if (body !== null) return this.#page(200, body);
    }
    const location =
      (successRedirect && (await redirectFor(successRedirect, visitor, logger))) ??
      SelfService.formPath(this.#backend.config, "sent");
    return { status: 303, headers: { Location: location, "Cache-Control": "no-store" }, body: "" };
  }

  #formPage(
    status: number,
    visitor: Visitor,
    values: Record<string, string>,
    errors: Record<string, string[]>,
  ): PageResponse {
    const all = { firstName: "", lastName: "", email: "", ...values };
    return this.#page(
      status,
      this.#pages.form({ visitor, values: all, errors, fields: this.#fields }),
    );
  }

  sent(): PageResponse {
    return this.#page(200, this.#pages.sent());
  }

  async #pending(uuid: string): Promise<Pending> {
    if (!isUuid(uuid)) return { state: "notFound" };
    let visitor: Visitor | null;
    try {
      visitor = await this.#backend.find(uuid.toLowerCase());
    } catch {
      return { state: "unavailable" };
    }
    if (!visitor?.isSelfService) return { state: "notFound" };
    if (visitor.isActive || visitor.context?.claimedAt) return { state: "completed" };
    if (visitor.hasExpired) return { state: "expired" };
    return { state: "pending", visitor };
  }

  #refusal(state: "notFound" | "completed" | "expired" | "unavailable"): PageResponse {
    const status = { notFound: 404, completed: 409, expired: 410, unavailable: 503 }[state];
    return this.#page(status, this.#pages[state]());
  }

  #page(status: number, body: string | { toString(): string }): PageResponse {
    return htmlPage(status, body);
  }
}

function declaredLength(value: string | number | null | undefined): number {
  if (value === null || value === undefined || value === "") return 0;
  const length = Number(value);
  // A header that is not a length is treated as too large: nothing honest sends one.
  return Number.isFinite(length) && length >= 0 ? length : Number.POSITIVE_INFINITY;
}

/**
 * The size in bytes of a body an app's parser already read (the raw size is then unknown): the
 * names and values of its fields, nested ones included; stops counting once over the limit.
 */
function parsedSize(body: unknown, depth = 0): number {
  if (body === null || body === undefined) return 0;
  if (typeof body === "string") return Buffer.byteLength(body);
  if (typeof body !== "object") return String(body).length;
  if (body instanceof Uint8Array) return body.byteLength;
  if (depth > 8) return Number.POSITIVE_INFINITY;
  let size = 0;
  for (const [key, value] of Object.entries(body)) {
    size += Buffer.byteLength(key) + 2 + parsedSize(value, depth + 1);
    if (size > SELF_SERVICE_BODY_LIMIT) break;
  }
  return size;
}
