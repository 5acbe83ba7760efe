import type { Visitor } from "../core/visitor.js";
import type { VisitorPass } from "../core/visitor-pass.js";

/**
 * The sharing analytics and counts the admin pages read. They are being added to the core; until
 * every method is there, each missing one reads as "not available" and the pages say so.
 * TEMPORARY: once the core has them, this file reduces to the core's own types.
 */
export interface SharingSignals {
  uuid: string;
  visitorId: number;
  email: string;
  scope: string;
  visits: number;
  sessions: number;
  networks: number | readonly string[];
  browsers: number | readonly string[];
  firstVisit: Date | string | null;
  lastVisit: Date | string | null;
  flagged: boolean;
  reasons: readonly string[];
}

export interface PassFilter {
  scope?: string;
  search?: string;
  active?: boolean;
  valid?: boolean;
}

export interface SharingReportFilter {
  since?: Date;
  scope?: string;
  flaggedOnly?: boolean;
  limit?: number;
  offset?: number;
}

export interface DayCount {
  day: Date;
  visits: number;
}

interface AnalyticsMethods {
  sharing(uuid: string): Promise<SharingSignals | null>;
  sharingReport(filter: SharingReportFilter): Promise<SharingSignals[]>;
  visitsOverTime(options: { uuid?: string; days?: number }): Promise<DayCount[]>;
  visitCounts(visitorIds: number[]): Promise<Map<number, number>>;
  count(filter: PassFilter): Promise<number>;
  list(filter: PassFilter & { limit?: number; offset?: number }): Promise<Visitor[]>;
}

/** What the admin needs of the pass service, each analytics method `null` while it is missing. */
export interface AdminBackend {
  readonly passes: VisitorPass;
  list(filter: PassFilter & { limit: number; offset: number }): Promise<Visitor[]>;
  sharing: AnalyticsMethods["sharing"] | null;
  sharingReport: AnalyticsMethods["sharingReport"] | null;
  visitsOverTime: AnalyticsMethods["visitsOverTime"] | null;
  visitCounts: AnalyticsMethods["visitCounts"] | null;
  count: AnalyticsMethods["count"] | null;
}

export function adminBackend(passes: VisitorPass): AdminBackend {
  const methods = passes as unknown as Partial<AnalyticsMethods>;
  // Looked up on each call, not bound once, so the service's own methods are always the ones run.
  const bound = <K extends keyof AnalyticsMethods>(name: K): AnalyticsMethods[K] | null => {
    if (typeof methods[name] !== "function") return null;
    return ((...args: unknown[]) =>
      (methods[name] as (...a: unknown[]) => unknown).apply(passes, args)) as AnalyticsMethods[K];
  };
  return {
    passes,
    list: (filter) => (methods.list as AnalyticsMethods["list"]).call(passes, filter),
    sharing: bound("sharing"),
    sharingReport: bound("sharingReport"),
    visitsOverTime: bound("visitsOverTime"),
    visitCounts: bound("visitCounts"),
    count: bound("count"),
  };
}
