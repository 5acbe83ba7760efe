import type { VisitorPassLogger } from "../../core/config.js";
import { VisitorPassConfigError } from "../../core/errors.js";
import type { Visitor } from "../../core/visitor.js";
import type { SelfServicePages } from "../../ui/self-service/self-service-pages.js";
import type { SelfServiceField } from "./self-service-fields.js";
import type { SelfServiceMessages } from "./self-service-schema.js";
import type { SuccessPage, SuccessRedirect } from "./self-service-success.js";

/**
 * Options of the self-service pages (`selfService` in each adapter).
 *
 * @example
 * ```ts
 * app.use(
 *   "/visitors",
 *   selfService(passes, {
 *     pages: { sent: () => "<!doctype html><title>Check your email</title><p>Your link is on its way.</p>" },
 *     messages: { emailInvalid: "Please give an email address we can write to." },
 *   }),
 * );
 * ```
 */
export interface SelfServiceOptions {
  /** Replace any page with your own rendering (each returns the whole HTML document). */
  pages?: Partial<SelfServicePages>;
  /** Replace any validation message text. */
  messages?: Partial<SelfServiceMessages>;
  /**
   * Extra fields of the form, by name (a letter, then letters, digits or `_`; at most 16), each
   * validated with its zod schema and stored in the claimed pass's `context` under its name. The
   * names of the built-in fields and of the context keys the package writes (`selfService`,
   * `redirectTo`, `claimedAt`) are refused. A submission with an extra field refused answers 400
   * with the form and its messages (one refused only in the built-in fields keeps its 200).
   * @example
   * ```ts
   * selfService(passes, {
   *   fields: { company: { label: "Company", schema: z.string().trim().min(1, "Enter your company.") } },
   * });
   * ```
   */
  fields?: Record<string, SelfServiceField>;
  /**
   * Values the form shows when it is first displayed (escaped): for the built-in fields and the
   * extra ones, by name; or a function of the form request's query and the pending pass (whose
   * `context.redirectTo` is the page the visitor wanted) returning them.
   * @example
   * ```ts
   * selfService(passes, { initial: (query) => ({ email: query.get("email") ?? "" }) });
   * ```
   */
  initial?: SelfServiceInitial;
  /**
   * Where a valid submission sends the browser (303) instead of the built-in "Check your email"
   * page: a path on this site, or a function of the claimed visitor returning one. Anything else
   * (another site's URL, `//host`) is a `VisitorPassConfigError`; a function giving one is
   * reported to `logger` and the built-in page is used.
   * @example
   * ```ts
   * selfService(passes, { successRedirect: (visitor) => `/thanks?scope=${visitor.scope}` });
   * ```
   */
  successRedirect?: SuccessRedirect;
  /**
   * The page a valid submission answers with (200, never cached), given the claimed visitor,
   * instead of the redirect to the built-in page. Its HTML is yours: escape what you put in it.
   * It is sent with the package's page headers, whose Content-Security-Policy runs no script. If
   * it throws, the built-in page is used and `logger` is told.
   * @example
   * ```ts
   * selfService(passes, {
   *   successPage: (visitor) => `<!doctype html><p>Thanks, ${escapeHtml(visitor.firstName)}.</p>`,
   * });
   * ```
   */
  successPage?: SuccessPage;
}

/** The form's first values, by field name; or a function of the query and the pending pass. */
export type SelfServiceInitial =
  | Partial<Record<string, string>>
  | ((
      query: URLSearchParams,
      visitor: Visitor,
    ) => Partial<Record<string, string>> | Promise<Partial<Record<string, string>>>);

/** Checks the `initial` option when the pages are built. */
export function checkInitial(initial: unknown): void {
  if (initial === undefined || typeof initial === "function") return;
  if (typeof initial !== "object" || initial === null || Array.isArray(initial)) {
    throw new VisitorPassConfigError(
      "initial",
      initial,
      "must be an object of values by field name, or a function of the query returning one",
    );
  }
}

/**
 * The values the form first shows: `initial`'s, for the fields there are (`limits`, each cut to
 * its length), others empty. An `initial` function that throws is reported to `logger`, and the
 * form shows empty: a visitor is never refused for the app's pre-filling.
 */
export async function initialValues(
  initial: SelfServiceInitial | undefined,
  limits: Readonly<Record<string, number>>,
  url: string,
  visitor: Visitor,
  logger: VisitorPassLogger,
): Promise<Record<string, string>> {
  let given: Partial<Record<string, string>> = {};
  try {
    given =
      typeof initial === "function"
        ? await initial(new URLSearchParams(queryOf(url)), visitor)
        : (initial ?? {});
  } catch (error) {
    reportInitial(logger, error);
  }
  const values: Record<string, string> = { firstName: "", lastName: "", email: "" };
  for (const [name, limit] of Object.entries(limits)) {
    const value = typeof given === "object" && given !== null ? given[name] : undefined;
    values[name] = typeof value === "string" ? value.slice(0, limit) : "";
  }
  return values;
}

function reportInitial(logger: VisitorPassLogger, error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  try {
    logger.error(`visitor-pass: self-service initial failed: ${message}; the form was shown empty`);
  } catch {
    // A logger that throws must not fail the form.
  }
}

/** The query of a request URL (absolute or a path), without the `?`. */
function queryOf(url: string): string {
  const at = url.indexOf("?");
  if (at < 0) return "";
  const hash = url.indexOf("#", at);
  return url.slice(at + 1, hash < 0 ? undefined : hash);
}
