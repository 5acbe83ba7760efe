import type { ResolvedConfig } from "../core/config.js";
import { isCrossSite, type OriginHeaders } from "../core/cross-site.js";
import { VisitorPassError } from "../core/errors.js";
import { htmlPage, type PageResponse } from "../core/page.js";
import { isUuid } from "../core/tokens.js";
import type { Visitor } from "../core/visitor.js";
import { defaultPages, type SelfServicePages } from "./self-service-pages.js";
import {
  defaultMessages,
  parseSubmission,
  type SelfServiceFields,
  type SelfServiceMessages,
  selfServiceSchema,
  submittedValues,
} from "./self-service-schema.js";

export interface SelfServiceOptions {
  /** Replace any page with your own rendering (each returns the whole HTML document). */
  pages?: Partial<SelfServicePages>;
  /** Replace any validation message text. */
  messages?: Partial<SelfServiceMessages>;
}

/** What the self-service pages need from the pass service. */
export interface SelfServiceBackend {
  readonly config: ResolvedConfig;
  find(uuid: string): Promise<Visitor | null>;
  /** Fills in and activates a pending pass under a new token; `null` if another claim won. */
  claim(pending: Visitor, fields: SelfServiceFields): Promise<Visitor | null>;
  /** Tells the app (which emails the link). */
  created(visitor: Visitor): Promise<void>;
}

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

  constructor(backend: SelfServiceBackend, options: SelfServiceOptions = {}) {
    this.#backend = backend;
    this.#pages = { ...defaultPages, ...options.pages };
    this.#schema = selfServiceSchema({ ...defaultMessages, ...options.messages });
  }

  /** Where the form lives for a pending pass (and where the success page is). */
  static formPath(config: ResolvedConfig, uuid: string): string {
    return `${config.selfServicePath === "/" ? "" : config.selfServicePath}/self-service/${uuid}`;
  }

  async form(uuid: string): Promise<PageResponse> {
    const pending = await this.#pending(uuid);
    if (pending.state !== "pending") return this.#refusal(pending.state);
    const values = { firstName: "", lastName: "", email: "" };
    return this.#page(200, this.#pages.form({ visitor: pending.visitor, values, errors: {} }));
  }

  async submit(uuid: string, body: unknown, headers: OriginHeaders): Promise<PageResponse> {
    if (isCrossSite(headers)) return this.#page(403, this.#pages.crossSite());
    const pending = await this.#pending(uuid);
    if (pending.state !== "pending") return this.#refusal(pending.state);
    const values = submittedValues(body);
    const parsed = parseSubmission(this.#schema, values);
    if (!parsed.ok) {
      return this.#page(
        200,
        this.#pages.form({ visitor: pending.visitor, values, errors: parsed.errors }),
      );
    }
    let claimed: Visitor | null;
    try {
      claimed = await this.#backend.claim(pending.visitor, parsed.fields);
    } catch (error) {
      if (error instanceof VisitorPassError) throw error;
      return this.#refusal("unavailable");
    }
    if (!claimed) return this.#refusal("completed");
    await this.#backend.created(claimed);
    return {
      status: 303,
      headers: {
        Location: `${SelfService.formPath(this.#backend.config, "sent")}`,
        "Cache-Control": "no-store",
      },
      body: "",
    };
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
