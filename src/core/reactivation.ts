import type { Visitor } from "./visitor.js";

/** What `reactivate()` would do to a pass's expiry when that takes time away from it. */
export interface Shortening {
  /** The expiry the pass has now (`null`: it never expires). */
  from: Date | null;
  /** The expiry reactivating would give it: now plus `tokenExpiry`. */
  to: Date;
}

/**
 * `reactivate()` sets the expiry to now plus `tokenExpiry` whatever it was. On an inactive pass
 * that is what turning it back on means; on an active pass whose link works longer than that, it
 * would only take time away. Returns that shortening, or `null` when reactivating takes nothing
 * away (the pass is inactive, or its expiry is no later than the new one).
 */
export function reactivationShortens(
  visitor: Visitor,
  tokenExpirySeconds: number,
  now: Date,
): Shortening | null {
  if (!visitor.isActive) return null;
  const to = new Date(now.getTime() + tokenExpirySeconds * 1000);
  if (visitor.expiresAt !== null && visitor.expiresAt.getTime() <= to.getTime()) return null;
  return { from: visitor.expiresAt, to };
}
