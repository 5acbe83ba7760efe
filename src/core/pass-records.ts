import type { PassCache } from "./pass-cache.js";
import type {
  NewVisitor,
  PassStore,
  PromotionResult,
  VisitorChanges,
  VisitorFilter,
} from "./ports.js";
import type { TokenKeys } from "./token-keys.js";
import { Visitor, type VisitorRecord } from "./visitor.js";

/**
 * The store seen in tokens and `Visitor`s: maps each token to its stored key (itself, or its
 * digest), wraps records, carrying the token back onto the pass whenever the caller knows it, and
 * keeps the pass cache (when there is one) in step with every write made through it.
 */
export class PassRecords {
  constructor(
    readonly store: PassStore,
    readonly keys: TokenKeys,
    readonly now: () => Date,
    readonly cache: PassCache | null = null,
  ) {}

  async insert(token: string, visitor: Omit<NewVisitor, "uuid">): Promise<Visitor> {
    const record = await this.store.insert({ ...visitor, uuid: this.keys.key(token) });
    return this.#wrap(record, token)!;
  }

  /** A pass by its token (or stored digest): what `get()` and the flow look up. */
  async find(value: string): Promise<Visitor | null> {
    const { key, token } = this.keys.lookup(value);
    const cached = this.cache?.get(key);
    // The cache keeps passes as stored: looked up by token, the pass carries that token again.
    if (cached) return token === null || cached.uuid === token ? cached : this.#wrap(cached, token);
    const mark = this.cache?.mark();
    return this.#remember(key, await this.store.findByUuid(key), token, mark);
  }

  /**
   * The pass a stored key (the token, or with `"hash"` its digest: what a session keeps) names
   * when the cache already holds it, without a query; otherwise `undefined` (ask `find`). The
   * request path's fast lane: a hit allocates nothing and hashes nothing, and the pass it returns
   * is as stored (with `"hash"`, its `uuid` is the digest).
   */
  cached(key: string): Visitor | undefined {
    if (!this.cache) return undefined;
    const visitor = this.cache.get(key);
    // A hit is the very key the pass is stored under (so `key` needs no validating).
    return visitor?.uuid === key ? visitor : undefined;
  }

  /** The stored key for a token, or for a digest `list()` showed; what a session keeps. */
  keyOf(value: string): string {
    return this.keys.lookup(value).key;
  }

  /**
   * The one rule naming a pass outside the request flow (`get`, `deactivate`, `reactivate`,
   * `logs`, `sharing`, the admin pages and the command line): its token, or its stored digest
   * under `tokenStorage: "hash"`; failing that, the token of the self-service form it was claimed
   * from (the pass itself has a new token, sent by email: the form's token never admits).
   * Throws `MalformedVisitorToken` for anything else.
   */
  async resolve(value: string): Promise<Visitor | null> {
    const { key } = this.keys.lookup(value);
    return (await this.find(value)) ?? this.#wrap(await this.store.findByFormUuid(key), null);
  }

  /** A pass by its `id`, which admits nobody: how the admin pages address passes. */
  async findById(id: number): Promise<Visitor | null> {
    return this.#wrap(await this.store.findById(id), null);
  }

  /**
   * Applies the changes `decide` makes for the pass `value` names (as `resolve` finds it; `decide`
   * may throw to refuse), to that very pass; `null` when there is none.
   */
  async change(
    value: string,
    decide: (visitor: Visitor) => VisitorChanges,
  ): Promise<Visitor | null> {
    const { token } = this.keys.lookup(value);
    const visitor = await this.resolve(value);
    if (!visitor) return null;
    const changes = decide(visitor);
    // The stored key of the pass found: the value's own, or the claimed pass's under a form token.
    const named = visitor.uuid === token;
    const key = named ? this.keys.key(token) : visitor.uuid;
    this.cache?.forget(key);
    const mark = this.cache?.mark();
    return this.#remember(key, await this.store.update(key, changes), named ? token : null, mark);
  }

  /**
   * Promotes the pass `value` names (as `resolve` finds it; `check` may throw to refuse it) to
   * `userId` with the store's one conditional statement, keeping the cache in step as `change`
   * does; `null` when there is none.
   */
  async promote(
    value: string,
    userId: string,
    at: Date,
    check: (visitor: Visitor) => void = () => {},
  ): Promise<{ outcome: PromotionResult["outcome"]; visitor: Visitor } | null> {
    const { token } = this.keys.lookup(value);
    const found = await this.resolve(value);
    if (!found) return null;
    check(found);
    const named = found.uuid === token;
    const key = named ? this.keys.key(token) : found.uuid;
    this.cache?.forget(key);
    const mark = this.cache?.mark();
    const result = await this.store.promote(key, userId, at);
    const visitor = this.#remember(key, result?.record ?? null, named ? token : null, mark);
    return result && visitor ? { outcome: result.outcome, visitor } : null;
  }

  async admit(token: string): Promise<Visitor | null> {
    const key = this.keys.key(token);
    this.cache?.forget(key);
    const mark = this.cache?.mark();
    return this.#remember(key, await this.store.admit(key, this.now()), token, mark);
  }

  async claim(token: string, newToken: string, changes: VisitorChanges): Promise<Visitor | null> {
    this.cache?.forget(this.keys.key(token));
    const record = await this.store.claim(this.keys.key(token), this.keys.key(newToken), changes);
    return this.#wrap(record, newToken);
  }

  /**
   * Renews the pass `token` names under `newToken` (`PassStore#renew`); `null` when it cannot be
   * renewed, or the store cannot renew at all.
   */
  async renew(
    token: string,
    newToken: string,
    now: Date,
    expiresAt: Date | null,
  ): Promise<Visitor | null> {
    if (typeof this.store.renew !== "function") return null;
    const key = this.keys.key(token);
    this.cache?.forget(key);
    const record = await this.store.renew(key, this.keys.key(newToken), now, expiresAt);
    this.cache?.forget(key);
    return this.#wrap(record, newToken);
  }

  /** Forgets every cached pass: after writes that touch many (purge). */
  forgetAll(): void {
    this.cache?.clear();
  }

  /**
   * The pass as a `Visitor` carrying `token` when the caller knows it; cached as stored (so a
   * session holding only the digest finds it there too) unless a change elsewhere was seen since
   * `mark`, taken before the store was read.
   */
  #remember(
    key: string,
    record: VisitorRecord | null,
    token: string | null,
    mark: number | undefined,
  ): Visitor | null {
    const stored = this.#wrap(record, null);
    if (!stored) return null;
    this.cache?.set(key, stored, mark);
    return token === null || token === stored.uuid ? stored : this.#wrap(stored, token);
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
