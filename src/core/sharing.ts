/**
 * Sharing analytics: does a pass look like its link went to more people than the one it was
 * made for? Each visit log carries two signals, written with it: the client network (/24 of an
 * IPv4 address, /48 of an IPv6 one) and the browser family. Per pass, the distinct sessions,
 * networks and browser families are counted in SQL, and a pass is flagged when any count is more
 * than its threshold.
 */
import { z } from "zod";
import { browserFamily, MAX_FAMILY_LENGTH } from "./browser.js";
import { VisitorPassConfigError } from "./errors.js";
import { networkOf } from "./network.js";
import { listInput, parse, scopeFilter } from "./validation.js";

/**
 * How many distinct sessions, networks and browser families a pass may show before it is
 * flagged as shared: it is flagged when any count is MORE than its threshold.
 */
export interface SharingThresholds {
  /** Distinct sessions (`sessionKey`s). @default 2 */
  sessions?: number;
  /** Distinct client networks (/24 IPv4, /48 IPv6). @default 2 */
  networks?: number;
  /** Distinct browser families (Chrome, Safari, …). @default 2 */
  browsers?: number;
}

export type ResolvedSharingThresholds = Required<SharingThresholds>;

/** A phone and a laptop, at home and at work, is one person: two of each is normal. */
export const DEFAULT_SHARING_THRESHOLDS: ResolvedSharingThresholds = Object.freeze({
  sessions: 2,
  networks: 2,
  browsers: 2,
});

const THRESHOLD_KEYS = ["sessions", "networks", "browsers"] as const;

/** Validates the `sharingThresholds` option (positive integers), filling in the defaults. */
export function resolveSharingThresholds(value: unknown): ResolvedSharingThresholds {
  if (value === undefined || value === null) return { ...DEFAULT_SHARING_THRESHOLDS };
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new VisitorPassConfigError(
      "sharingThresholds",
      value,
      "expected an object { sessions?, networks?, browsers? }",
    );
  }
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(THRESHOLD_KEYS as readonly string[]).includes(key)) {
      throw new VisitorPassConfigError(
        `sharingThresholds.${key}`,
        given[key],
        "unknown threshold; use sessions, networks or browsers",
      );
    }
  }
  const resolved = { ...DEFAULT_SHARING_THRESHOLDS };
  for (const key of THRESHOLD_KEYS) {
    const threshold = given[key];
    if (threshold === undefined) continue;
    if (
      typeof threshold !== "number" ||
      !Number.isSafeInteger(threshold) ||
      threshold < 1 ||
      threshold > 1_000_000
    ) {
      throw new VisitorPassConfigError(
        `sharingThresholds.${key}`,
        threshold,
        "must be a whole number from 1 to 1000000",
      );
    }
    resolved[key] = threshold;
  }
  return resolved;
}

/** What the visits of one pass say about whether its link was shared. */
export interface SharingSignals {
  /** The pass's token (its stored digest under `tokenStorage: "hash"`, as `list()` shows it). */
  uuid: string;
  /** The pass's `id`, as visit logs reference it. */
  visitorId: number;
  email: string;
  scope: string;
  /** Visits logged (within the report's `since`), crawlers and link scanners included. */
  visits: number;
  /**
   * Distinct sessions of those visits. Visits without a session, and visits by crawlers and link
   * scanners (browser family `"bot"`), are not counted.
   */
  sessions: number;
  /**
   * Distinct client networks (/24 IPv4, /48 IPv6) of those visits, crawlers and link scanners
   * left out. Visits logged without an address (`anonymizeIp: "drop"`), or before the
   * `0002_visit_log_signals` migration, are not counted.
   */
  networks: number;
  /**
   * Distinct browser families (Chrome, Safari, `"http-client"`, …) of those visits, crawlers and
   * link scanners left out. Visits logged before the `0002_visit_log_signals` migration are not
   * counted.
   */
  browsers: number;
  /**
   * Of `visits`, those logged without a session (a client refusing cookies, say): they add
   * nothing to `sessions`, so a pass visited only so shows 0 sessions.
   */
  withoutSession: number;
  /** Of `visits`, those by crawlers and link scanners: they add nothing to the distinct counts. */
  byCrawlers: number;
  /** The first visit (within `since`), `null` when there is none. */
  firstVisit: Date | null;
  /** The last visit (within `since`), `null` when there is none. */
  lastVisit: Date | null;
  /** Any of `sessions`, `networks` or `browsers` is more than its threshold. */
  flagged: boolean;
  /** Why it is flagged, e.g. "3 sessions (more than 2)"; empty when not flagged. */
  reasons: string[];
}

/** The counts the store computes for one pass. */
export interface SharingCounts {
  visits: number;
  sessions: number;
  networks: number;
  browsers: number;
  withoutSession: number;
  byCrawlers: number;
  firstVisit: Date | null;
  lastVisit: Date | null;
}

/**
 * What the distinct counts leave out, in words, e.g. "3 visits without a session (cookies
 * refused)": empty when every visit counted. For the admin pages and the command line alike.
 */
export function uncountedVisits(counts: Pick<SharingCounts, "withoutSession" | "byCrawlers">) {
  const visits = (n: number) => `${n} visit${n === 1 ? "" : "s"}`;
  const notes: string[] = [];
  if (counts.withoutSession > 0) {
    notes.push(`${visits(counts.withoutSession)} without a session (cookies refused)`);
  }
  if (counts.byCrawlers > 0) {
    notes.push(`${visits(counts.byCrawlers)} by crawlers or link scanners, not counted`);
  }
  return notes;
}

/** Why `counts` look shared under `thresholds`: one reason per count above its threshold. */
export function sharingReasons(
  counts: Pick<SharingCounts, "sessions" | "networks" | "browsers">,
  thresholds: ResolvedSharingThresholds,
): string[] {
  return THRESHOLD_KEYS.filter((key) => counts[key] > thresholds[key]).map(
    (key) => `${counts[key]} ${key} (more than ${thresholds[key]})`,
  );
}

/** The signals of a pass from its counts, flagged under `thresholds`. */
export function sharingSignals(
  pass: { uuid: string; visitorId: number; email: string; scope: string },
  counts: SharingCounts,
  thresholds: ResolvedSharingThresholds,
): SharingSignals {
  const reasons = sharingReasons(counts, thresholds);
  return {
    uuid: pass.uuid,
    visitorId: pass.visitorId,
    email: pass.email,
    scope: pass.scope,
    visits: counts.visits,
    sessions: counts.sessions,
    networks: counts.networks,
    browsers: counts.browsers,
    withoutSession: counts.withoutSession,
    byCrawlers: counts.byCrawlers,
    firstVisit: counts.firstVisit,
    lastVisit: counts.lastVisit,
    flagged: reasons.length > 0,
    reasons,
  };
}

/** The signals a visit log stores with a visit. */
export interface VisitSignals {
  /** The client network, or `null` when no address is kept. */
  clientNetwork: string | null;
  browserFamily: string;
}

/**
 * The signals of a visit, from the address as the log keeps it (already truncated or dropped per
 * `anonymizeIp`: the network of a truncated address is that address, and a dropped one has none)
 * and the user agent.
 */
export function visitSignals(loggedAddress: string | null, userAgent: string | null): VisitSignals {
  const address = loggedAddress?.trim() ?? "";
  try {
    return {
      clientNetwork: address === "" ? null : networkOf(address).slice(0, 64),
      browserFamily: browserFamily(userAgent).slice(0, MAX_FAMILY_LENGTH),
    };
  } catch {
    // Signals are a nicety: they never cost a visit its log.
    return { clientNetwork: null, browserFamily: "unknown" };
  }
}

const date = z.date("Must be a date.").refine((d) => !Number.isNaN(d.getTime()), "Must be a date.");

const sharingReportInput = z.strictObject({
  since: date.optional(),
  scope: scopeFilter.optional(),
  flaggedOnly: z.boolean("Must be true or false.").optional(),
  limit: z
    .number("Must be a number.")
    .int("Must be a whole number.")
    .min(1, "Must be 1 or more.")
    .max(1000, "At most 1000.")
    .default(100),
  offset: z
    .number("Must be a number.")
    .int("Must be a whole number.")
    .nonnegative("Must be 0 or more.")
    .default(0),
});

/**
 * Options of `passes.sharingReport()`.
 *
 * @example
 * ```ts
 * const lastWeek = new Date(Date.now() - 7 * 24 * 3600 * 1000);
 * const flagged = await passes.sharingReport({ since: lastWeek, flaggedOnly: true, limit: 50 });
 * ```
 */
export interface SharingReportOptions {
  /** Count only visits at or after this instant; passes without such visits are left out. */
  since?: Date;
  /** Only passes of this scope. */
  scope?: string;
  /** Only flagged passes. @default false */
  flaggedOnly?: boolean;
  /** At most this many passes, 1–1000. @default 100 */
  limit?: number;
  /** Skip this many passes first. @default 0 */
  offset?: number;
}

export function parseSharingReportOptions(options: SharingReportOptions | undefined) {
  return parse(sharingReportInput, options);
}

const visitsOverTimeInput = z.strictObject({
  uuid: z.string("Must be text.").optional(),
  days: z
    .number("Must be a number.")
    .int("Must be a whole number.")
    .min(1, "Must be 1 or more.")
    .max(366, "At most 366.")
    .default(30),
});

/**
 * Options of `passes.visitsOverTime()`.
 *
 * @example
 * ```ts
 * const days = await passes.visitsOverTime({ uuid: visitor.uuid, days: 14 }); // [{ day, visits }, …]
 * ```
 */
export interface VisitsOverTimeOptions {
  /** Only the visits of this pass; all passes' when left out. */
  uuid?: string;
  /** How many UTC days, today included, 1–366. @default 30 */
  days?: number;
}

/** Visits of one UTC day. */
export interface DailyVisits {
  /** Midnight UTC that starts the day. */
  day: Date;
  visits: number;
}

export function parseVisitsOverTimeOptions(options: VisitsOverTimeOptions | undefined) {
  return parse(visitsOverTimeInput, options);
}

export const DAY_MS = 86_400_000;

/** The UTC midnight at or before `instant`. */
export function utcDay(instant: Date | number): number {
  const ms = typeof instant === "number" ? instant : instant.getTime();
  return ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
}

/** `days` UTC days ending with today, oldest first, each with its count from `counts` or 0. */
export function fillDays(today: Date, days: number, counts: Map<number, number>): DailyVisits[] {
  const last = utcDay(today);
  return Array.from({ length: days }, (_, i) => {
    const day = last - (days - 1 - i) * DAY_MS;
    return { day: new Date(day), visits: counts.get(day) ?? 0 };
  });
}

const visitCountsInput = z.array(
  z.number("Must be a pass id.").int("Must be a pass id.").positive("Must be a pass id."),
  "Must be a list of pass ids.",
);

export function parseVisitorIds(ids: unknown): number[] {
  const parsed = parse(z.object({ visitorIds: visitCountsInput }), { visitorIds: ids }).visitorIds;
  return [...new Set(parsed)];
}

const countInput = listInput.omit({ limit: true, offset: true });

/** Filter of `passes.count()`: the filters of `passes.list()`, without paging. */
export type CountVisitorsInput = z.input<typeof countInput>;

export function parseCountFilter(filter: CountVisitorsInput | undefined) {
  return parse(countInput, filter);
}
