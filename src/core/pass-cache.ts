import type { VisitorRecord } from "./visitor.js";

/**
 * Recently read passes by stored key, so that a visitor's every request does not cost a query.
 * Exact, not eventually consistent: every read first asks the store whether another connection
 * changed anything (and forgets everything if so), and this process's own writes drop their key.
 * Bounded in size; the least recently used entry goes first.
 */
export class PassCache {
  readonly #entries = new Map<string, VisitorRecord>();

  constructor(
    readonly changedElsewhere: () => boolean,
    readonly maxEntries = 10_000,
  ) {}

  get(key: string): VisitorRecord | undefined {
    if (this.changedElsewhere()) {
      this.#entries.clear();
      return undefined;
    }
    const record = this.#entries.get(key);
    if (record) {
      this.#entries.delete(key);
      this.#entries.set(key, record);
    }
    return record;
  }

  set(key: string, record: VisitorRecord | null): void {
    if (!record) return;
    this.#entries.delete(key);
    this.#entries.set(key, record);
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
