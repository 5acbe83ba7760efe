import type { PassEvents } from "./events.js";
import type { NewVisitorLog, VisitorAnalytics } from "./ports.js";
import { type ResolvedSharingThresholds, sharingReasons, sharingSignals } from "./sharing.js";
import type { Visitor } from "./visitor.js";

/** Passes whose signals this process remembers; beyond, the longest unseen are forgotten. */
const MAX_WATCHED = 10_000;
/** Signals remembered per pass; beyond, every new one costs the pass a check. */
const MAX_SIGNALS = 64;

/**
 * Tells `passFlaggedShared` when a batch of visit logs makes a pass cross its sharing thresholds.
 * Only while a handler is subscribed, and only for passes whose visits in the batch bring a
 * session, client network or browser family this process has not seen for them yet (one
 * visitor's later visits bring none, and cost nothing): their counts are read just before the
 * batch is written and just after, and a pass flagged after but not before has crossed.
 */
export class SharingWatch {
  /** Signals seen per pass id (`s:`, `n:`, `b:` and the value). */
  readonly #seen = new Map<number, Set<string>>();
  /** Passes seen flagged: nothing more to tell about them. */
  readonly #flagged = new Set<number>();

  constructor(
    readonly analytics: Pick<VisitorAnalytics, "sharingCounts">,
    readonly thresholds: ResolvedSharingThresholds,
    readonly events: PassEvents,
    readonly findById: (id: number) => Promise<Visitor | null>,
  ) {}

  /** Writes `batch` with `insert`, checking the passes it may have flagged around it. */
  async around(batch: readonly NewVisitorLog[], insert: () => Promise<void>): Promise<void> {
    if (!this.events.has("passFlaggedShared")) return insert();
    const candidates = this.#candidates(batch);
    const before = candidates.length > 0 ? await this.#flaggedNow(candidates) : new Map();
    await insert();
    const unflagged = candidates.filter((id) => before.get(id) === false);
    if (unflagged.length === 0) return;
    for (const id of unflagged) await this.#check(id);
  }

  #candidates(batch: readonly NewVisitorLog[]): number[] {
    const candidates = new Set<number>();
    for (const log of batch) {
      if (this.#flagged.has(log.visitorId) || log.browserFamily === "bot") continue;
      let seen = this.#seen.get(log.visitorId);
      if (seen) {
        // Most recently seen last, so that the oldest are forgotten first.
        this.#seen.delete(log.visitorId);
      } else {
        seen = new Set();
      }
      this.#seen.set(log.visitorId, seen);
      for (const signal of signalsOf(log)) {
        if (seen.has(signal)) continue;
        candidates.add(log.visitorId);
        if (seen.size < MAX_SIGNALS) seen.add(signal);
      }
    }
    while (this.#seen.size > MAX_WATCHED) {
      this.#seen.delete(this.#seen.keys().next().value as number);
    }
    return [...candidates];
  }

  /** Whether each pass is flagged now; a pass whose counts cannot be read is left out. */
  async #flaggedNow(ids: readonly number[]): Promise<Map<number, boolean>> {
    const flagged = new Map<number, boolean>();
    for (const id of ids) {
      try {
        const counts = await this.analytics.sharingCounts(id);
        const isFlagged = sharingReasons(counts, this.thresholds).length > 0;
        flagged.set(id, isFlagged);
        if (isFlagged) this.#remember(id);
      } catch {
        // The watch is a nicety: a failing read costs no visit its log.
      }
    }
    return flagged;
  }

  async #check(id: number): Promise<void> {
    try {
      const counts = await this.analytics.sharingCounts(id);
      if (sharingReasons(counts, this.thresholds).length === 0) return;
      this.#remember(id);
      const visitor = await this.findById(id);
      if (!visitor) return;
      const signals = sharingSignals(
        { uuid: visitor.uuid, visitorId: visitor.id, email: visitor.email, scope: visitor.scope },
        counts,
        this.thresholds,
      );
      this.events.fire("passFlaggedShared", { visitor, signals });
    } catch {
      // As above: a failing read only means this crossing goes untold.
    }
  }

  #remember(id: number): void {
    this.#seen.delete(id);
    this.#flagged.add(id);
    if (this.#flagged.size > MAX_WATCHED) {
      this.#flagged.delete(this.#flagged.values().next().value as number);
    }
  }
}

function signalsOf(log: NewVisitorLog): string[] {
  const signals: string[] = [];
  if (log.sessionKey) signals.push(`s:${log.sessionKey}`);
  if (log.clientNetwork) signals.push(`n:${log.clientNetwork}`);
  if (log.browserFamily) signals.push(`b:${log.browserFamily}`);
  return signals;
}
