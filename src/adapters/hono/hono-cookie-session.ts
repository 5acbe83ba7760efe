import type { Context } from "hono";
import type { SessionPort } from "../../core/flow.js";
import {
  type CookieStashOptions as StashOptions,
  cookieStash as stashOf,
} from "../fetch/cookie-stash.js";

/** What a session port must also do when the adapter owns it: write itself out. */
export interface CommittableSession extends SessionPort {
  commit(): Promise<void>;
}

export type CookieStashOptions = Omit<StashOptions, "caller"> & { caller?: string };

/**
 * The encrypted cookie stash (see `../fetch/cookie-stash.ts`) over a Hono context: each commit
 * appends its `Set-Cookie` header to the context's response.
 */
export function cookieStash(
  options: CookieStashOptions,
): (c: Context) => Promise<CommittableSession> {
  const stash = stashOf({ caller: "visitorPass() for Hono", ...options });
  return async (c) => {
    const session = await stash(c.req.raw);
    return Object.defineProperties(
      {
        get: session.get,
        set: session.set,
        delete: session.delete,
        setCookieLifetime: session.setCookieLifetime,
        regenerate: session.regenerate,
        commit: async () => {
          const cookie = await session.commit();
          if (cookie !== null) c.header("Set-Cookie", cookie, { append: true });
        },
      },
      { id: { get: () => session.id, enumerable: true } },
    ) as CommittableSession;
  };
}
