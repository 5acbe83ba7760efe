import type { NewVisitor, VisitorChanges, VisitorFilter, VisitorStore } from "../store/store.js";
import type { TokenKeys } from "./token-keys.js";
import { Visitor, type VisitorRecord } from "./visitor.js";

/**
 * The store seen in tokens and `Visitor`s: maps each token to its stored key (itself, or its
 * digest) and wraps records, carrying the token back onto the pass whenever the caller knows it.
 */
export class PassRecords {
  constructor(
    readonly store: VisitorStore,
    readonly keys: TokenKeys,
    readonly now: () => Date,
  ) {}

  async insert(token: string, visitor: Omit<NewVisitor, "uuid">): Promise<Visitor> {
    const record = await this.store.insert({ ...visitor, uuid: this.keys.key(token) });
    return this.#wrap(record, token)!;
  }

  /** A pass by its token (or stored digest): what `get()` and the flow look up. */
  async find(value: string): Promise<Visitor | null> {
    const { key, token } = this.keys.lookup(value);
    return this.#wrap(await this.store.findByUuid(key), token);
  }

  async update(value: string, changes: VisitorChanges): Promise<Visitor | null> {
    const { key, token } = this.keys.lookup(value);
    return this.#wrap(await this.store.update(key, changes), token);
  }

  async admit(token: string): Promise<Visitor | null> {
    return this.#wrap(await this.store.admit(this.keys.key(token), this.now()), token);
  }

  async claim(token: string, newToken: string, changes: VisitorChanges): Promise<Visitor | null> {
    const record = await this.store.claim(this.keys.key(token), this.keys.key(newToken), changes);
    return this.#wrap(record, newToken);
  }

  async list(filter: VisitorFilter): Promise<Visitor[]> {
    const records = await this.store.list(filter);
    return records.map((record) => this.#wrap(record, null)!);
  }

  #wrap(record: VisitorRecord | null, token: string | null): Visitor | null {
    if (!record) return null;
    return new Visitor(token === null ? record : { ...record, uuid: token }, this.now);
  }
}
