import { createHash } from "node:crypto";
import { isUuid, parseToken } from "./tokens.js";

export type TokenStorage = "plain" | "hash";

/** A stored digest, as `"hash"` keeps tokens. */
const DIGEST = /^[0-9a-f]{64}$/i;

/**
 * How tokens are kept in the store: as they are, or (`"hash"`) only as their SHA-256 digest, so
 * that a copy of the database grants nothing. Every lookup goes through `key()`.
 */
export class TokenKeys {
  constructor(readonly storage: TokenStorage) {}

  /** The stored key of a canonical token. */
  key(token: string): string {
    return this.storage === "hash" ? createHash("sha256").update(token).digest("hex") : token;
  }

  /**
   * The stored key for what a caller handed in: a token (any case), or, when only digests are
   * stored, the digest itself as `list()` shows it. Throws `MalformedVisitorToken` otherwise.
   */
  lookup(value: string): { key: string; token: string | null } {
    if (this.storage === "hash" && typeof value === "string" && DIGEST.test(value)) {
      return { key: value.toLowerCase(), token: null };
    }
    const token = parseToken(value);
    return { key: this.key(token), token };
  }

  /**
   * Whether `value` could be a stored key: a token, or with `"hash"` a digest. Says nothing of
   * whether a pass has it; lets a caller skip a lookup that `lookup()` would refuse.
   */
  isKey(value: unknown): value is string {
    if (typeof value !== "string") return false;
    return this.storage === "hash" && value.length === 64 ? DIGEST.test(value) : isUuid(value);
  }
}
