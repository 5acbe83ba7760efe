import type { Visitor } from "./visitor.js";

/**
 * Recently read passes by stored key, so that a visitor's every request does not cost a query.
 * Exact, not eventually consistent: every read first asks the store whether another connection
 * changed anything (and forgets everything if so), and this process's own writes drop their key.
 * Bounded in size; the least recently stored entry goes first.
 *
 * It keeps `Visitor`s themselves (immutable), so that a hit allocates nothing.
 */
export class PassCache {
  readonly #entries = new Map<string, Visitor>();

  constructor(
    readonly changedElsewhere: () => boolean,
    readonly maxEntries = 10_000,
  ) {}

  get(key: string): Visitor | undefined {
    if (this.changedElsewhere()) {
      this.#entries.clear();
      return undefined;
    }
    return this.#entries.get(key);
  }

  set(key: string, visitor: Visitor): void {
    this.#entries.delete(key);
    this.#entries.set(key, visitor);
    if (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
