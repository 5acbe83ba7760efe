import { z } from "zod";
import { VisitorPassValidationError } from "./errors.js";
import type { LogEntry, LogSearch } from "./ports.js";
import { CONTROL_CHARACTERS, parse } from "./validation.js";

/**
 * What `passes.promote()` is given: the user id of the account the visitor became.
 *
 * @example
 * ```ts
 * // In the app's sign-up handler, once the account exists:
 * const visitor = await passes.promote(req.visitor.uuid, { userId: String(user.id) });
 * ```
 */
export interface PromoteInput {
  /** The app's id of the new account: 1–255 characters, no control characters. */
  userId: string;
}

/** The longest user id a pass records (the column's width). */
export const MAX_USER_ID = 255;

const userId = z
  .string({
    error: (issue) =>
      issue.input === undefined ? "A user id is required." : "The user id must be text.",
  })
  .min(1, "A user id is required.")
  .max(MAX_USER_ID, `At most ${MAX_USER_ID} characters.`)
  .refine((value) => value.trim() !== "", "A user id is required.")
  .refine((value) => !CONTROL_CHARACTERS.test(value), "Must not contain control characters.");

const promoteInput = z.strictObject({ userId });

/**
 * Checks the user id `promote(uuid, input)` was given (`VisitorPassValidationError`, field
 * `userId`), kept exactly as given (an id is never trimmed or re-cased).
 */
export function parsePromote(input: unknown): { userId: string } {
  if (input === null || typeof input !== "object") {
    throw new VisitorPassValidationError({ userId: ["Give { userId }: the new account's id."] });
  }
  return parse(promoteInput, input);
}

/** The most visit logs one page of `passes.searchLogs()` returns. */
export const MAX_LOG_PAGE = 500;

/**
 * Filters of `passes.searchLogs()`: the visit logs of every pass, newest first. Each filter
 * given narrows the list; `before` is the `next` of the previous page.
 *
 * @example
 * ```ts
 * const first = await passes.searchLogs({ scope: "REFERENCE_REQUEST", statusCode: 200, limit: 50 });
 * const second = first.next ? await passes.searchLogs({ before: first.next, limit: 50 }) : null;
 * ```
 */
export interface SearchLogsOptions {
  /** Logs of passes with this scope (exact). */
  scope?: string;
  /** Logs of the pass with this token (or, under `tokenStorage: "hash"`, stored digest). */
  uuid?: string;
  /** Logs of the pass with this `id` (what the admin pages address passes by). */
  visitorId?: number;
  /** Logs of the passes with this email (exact, as stored). */
  email?: string;
  /** Logs at or after this instant. */
  from?: Date;
  /** Logs before this instant. */
  to?: Date;
  /** Logs recorded with this HTTP status (100–599). */
  statusCode?: number;
  /** Where the page starts: the `next` a previous page returned. */
  before?: string;
  /** Logs per page, 1–500. @default 50 */
  limit?: number;
}

/** One page of `passes.searchLogs()`: its logs, newest first, and where the next page starts. */
export interface LogPage {
  logs: LogEntry[];
  /** Pass it as `before` for the next (older) page; `null` on the last page. */
  next: string | null;
}

const instant = z
  .date("Must be a date.")
  .refine((d) => !Number.isNaN(d.getTime()), "Must be a date.");

const searchInput = z.strictObject({
  scope: z.string("Must be text.").max(100, "At most 100 characters.").optional(),
  uuid: z.string("Must be text.").optional(),
  visitorId: z
    .number("Must be a pass id.")
    .int("Must be a pass id.")
    .min(1, "Must be a pass id.")
    .max(2_147_483_647, "Must be a pass id.")
    .optional(),
  email: z.string("Must be text.").max(254, "At most 254 characters.").optional(),
  from: instant.optional(),
  to: instant.optional(),
  statusCode: z
    .number("Must be an HTTP status.")
    .int("Must be an HTTP status.")
    .min(100, "Must be an HTTP status from 100 to 599.")
    .max(599, "Must be an HTTP status from 100 to 599.")
    .optional(),
  before: z.string("Must be the next of a previous page.").optional(),
  limit: z
    .number("Must be a number.")
    .int("Must be a whole number.")
    .min(1, "Must be 1 or more.")
    .max(MAX_LOG_PAGE, `At most ${MAX_LOG_PAGE}.`)
    .default(50),
});

const CURSOR = /^(\d{1,15})-(\d{1,10})$/;

/** The `next` of a page whose last log is `log`. */
export function logCursor(log: { timestamp: Date; id: number }): string {
  return `${log.timestamp.getTime()}-${log.id}`;
}

/** The validated options, `before` decoded; the pass named by `uuid` is left to the caller. */
export function parseSearchLogs(
  options: SearchLogsOptions | undefined,
): Omit<LogSearch, "visitorId"> & { uuid?: string; visitorId?: number } {
  const data = parse(searchInput, options ?? {});
  let before: LogSearch["before"];
  if (data.before !== undefined) {
    const match = CURSOR.exec(data.before);
    const id = match ? Number(match[2]) : 0;
    if (!match || id < 1 || id > 2_147_483_647) {
      throw new VisitorPassValidationError({ before: ["Must be the next of a previous page."] });
    }
    before = { timestamp: new Date(Number(match[1])), id };
  }
  const { before: _, ...rest } = data;
  return { ...rest, ...(before ? { before } : {}) };
}
