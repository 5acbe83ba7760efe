import type { Visitor } from "./visitor.js";

interface Entry {
  visitor: Visitor;
  /** When it was stored (epoch ms), for `maxAge`. */
  at: number;
}

/**
 * Recently read passes by stored key, so that a visitor's every request does not cost a query.
 * Every read first asks the store whether another connection changed anything, and forgets
 * everything if so; this process's own writes drop their key. On SQLite the answer is exact
 * for every write made through visitor-pass (`PRAGMA data_version`, asked at most once every
 * 5 ms, while such writes resolve only 5 ms after their commit); on PostgreSQL it comes by notification (see `PgChangeListener`), and
 * `maxAge` bounds how long an entry can live should one ever be lost. Bounded in size; the least
 * recently stored entry goes first. It keeps `Visitor`s themselves (immutable), so that a hit
 * allocates nothing.
 */
export class PassCache {
  readonly #entries = new Map<string, Entry>();
  /** Counts changes seen (elsewhere, or written here): a read that spans one does not cache. */
  #generation = 0;

  constructor(
    readonly changedElsewhere: () => boolean,
    readonly options: { maxEntries?: number; maxAge?: number; clock?: () => number } = {},
  ) {}

  get(key: string): Visitor | undefined {
    if (this.changedElsewhere()) {
      this.#forgetAll();
      return undefined;
    }
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const { maxAge, clock = Date.now } = this.options;
    if (maxAge !== undefined && clock() - entry.at > maxAge) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.visitor;
  }

  /**
   * Marks the start of a read from the store: `set` with this mark keeps the result only if no
   * change elsewhere was seen meanwhile (the read may then have raced it and be stale).
   */
  mark(): number {
    if (this.changedElsewhere()) this.#forgetAll();
    return this.#generation;
  }

  set(key: string, visitor: Visitor, mark = this.#generation): void {
    if (this.changedElsewhere()) this.#forgetAll();
    if (mark !== this.#generation) return;
    this.#entries.delete(key);
    this.#entries.set(key, { visitor, at: (this.options.clock ?? Date.now)() });
    if (this.#entries.size > (this.options.maxEntries ?? 10_000)) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** Drops `key` before this process writes it; reads already under way will not cache. */
  forget(key: string): void {
    this.#entries.delete(key);
    this.#generation += 1;
  }

  clear(): void {
    this.#forgetAll();
  }

  #forgetAll(): void {
    this.#entries.clear();
    this.#generation += 1;
  }
}
