import { z } from "zod";
import { VisitorPassValidationError } from "./errors.js";

/**
 * Control characters (C0, DEL, C1): never part of a name, an address or a scope, and harmful
 * where they end up (terminal escapes in the CLI, NUL refused by PostgreSQL).
 */
export const CONTROL_CHARACTERS = /\p{Cc}/u;

/** Refuses control characters with `message`. */
const withoutControlCharacters = (message: string) =>
  z.string().refine((value) => !CONTROL_CHARACTERS.test(value), message);

const name = z
  .string("Must be text.")
  .trim()
  .max(150, "At most 150 characters.")
  .pipe(withoutControlCharacters("Must not contain control characters."));
const seconds = z
  .number("Must be a number of seconds.")
  .int("Must be a whole number of seconds.")
  .nonnegative("Must be 0 or more.");

/** An email address as people type it; at most 254 characters, as RFC 5321 allows. */
const emailAddress = z
  .string({
    error: (issue) =>
      issue.input === undefined ? "Email address is required." : "Enter a valid email address.",
  })
  .trim()
  .max(254, "At most 254 characters.")
  .pipe(withoutControlCharacters("Enter a valid email address."))
  .pipe(z.email("Enter a valid email address."));

/**
 * A scope to filter by: any scope a pass may have. Text it cannot have (a control character)
 * simply matches nothing, as a search does, so a filter typed into the admin never fails.
 */
export const scopeFilter = z
  .string({
    error: (issue) => (issue.input === undefined ? "Scope is required." : "Scope must be text."),
  })
  .min(1, "Scope is required.")
  .max(100, "At most 100 characters.")
  .regex(/\S/, "Scope is required.");

/** The scope of a pass: as a filter, and without control characters. */
const scopeName = scopeFilter.refine(
  (value) => !CONTROL_CHARACTERS.test(value),
  "Must not contain control characters.",
);

const date = z.preprocess(
  (value) => (typeof value === "string" || typeof value === "number" ? new Date(value) : value),
  z.date("Must be a date."),
);

export const createInput = z.object({
  email: emailAddress,
  scope: scopeName,
  firstName: name.default(""),
  lastName: name.default(""),
  context: z.record(z.string(), z.json(), "Must be a JSON object.").nullable().default(null),
  expiresAt: date.nullable().optional(),
  sessionExpiry: seconds.nullable().optional(),
  maxUses: z
    .number("Must be a number.")
    .int("Must be a whole number.")
    .positive("Must be 1 or more.")
    .nullable()
    .default(null),
  /** Offer a fresh link once this pass's link expires or is used up, whatever its scope. */
  freshLinks: z.boolean("Must be true or false.").default(false),
});

export type CreateVisitorInput = z.input<typeof createInput>;

export const listInput = z.object({
  scope: z.string("Must be text.").optional(),
  search: z.string("Must be text.").max(200, "At most 200 characters.").optional(),
  active: z.boolean("Must be true or false.").optional(),
  /** `true`: active and not expired now; `false`: inactive or expired. */
  valid: z.boolean("Must be true or false.").optional(),
  /** Only the passes promoted to this user id (`passes.promote`). */
  promotedTo: z.string("Must be text.").max(255, "At most 255 characters.").optional(),
  /** `true`: promoted to an account; `false`: not promoted. */
  promoted: z.boolean("Must be true or false.").optional(),
  limit: z.number().int().min(1, "Must be 1 or more.").max(1000, "At most 1000.").default(100),
  offset: z.number().int().nonnegative("Must be 0 or more.").default(0),
});

export type ListVisitorsInput = z.input<typeof listInput>;

/** Parses `input` with `schema`, or throws `VisitorPassValidationError` with messages per field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new VisitorPassValidationError(fieldErrors(result.error));
}

export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : "_";
    const messages = fields[field] ?? [];
    if (!messages.includes(issue.message)) messages.push(issue.message);
    fields[field] = messages;
  }
  return fields;
}

const truncateLogsInput = z
  .strictObject({
    before: z
      .date("Must be a date.")
      .refine((d) => !Number.isNaN(d.getTime()), "Must be a date.")
      .optional(),
    keep: z
      .number("Must be a number.")
      .int("Must be a whole number.")
      .min(0, "Must be 0 or more.")
      .max(1_000_000_000, "At most 1000000000.")
      .optional(),
    onProgress: z
      .custom<(deleted: number) => void>((v) => typeof v === "function", "Must be a function.")
      .optional(),
  })
  .refine((input) => input.before !== undefined || input.keep !== undefined, {
    message: "Give before, keep or both.",
    path: ["_"],
  });

/**
 * Options of `passes.truncateLogs()`.
 *
 * @example
 * ```ts
 * // Logs older than 90 days go, but each pass keeps its 20 newest visits.
 * await passes.truncateLogs({ before: new Date(Date.now() - 90 * 86_400_000), keep: 20 });
 * ```
 */
export interface TruncateLogsOptions {
  /** Delete visit logs whose `timestamp` is before this instant. */
  before?: Date;
  /**
   * Keep the newest `keep` visit logs of each pass (by `timestamp`), whatever their age; with
   * `before` too, only logs that are both older than `before` and beyond the newest `keep` go.
   * `0` keeps none.
   */
  keep?: number;
  /** Called after each batch with the number deleted so far (batches as a purge's). */
  onProgress?: (deleted: number) => void;
}

export function parseTruncateLogs(options: TruncateLogsOptions | undefined) {
  if (options === undefined || options === null) {
    throw new VisitorPassValidationError({ _: ["Give before, keep or both."] });
  }
  return parse(truncateLogsInput, options) as TruncateLogsOptions;
}
