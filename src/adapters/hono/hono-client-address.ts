import type { Context } from "hono";

/** The client address where the runtime exposes one (Node's adapter does, as `c.env.incoming`). */
export function clientAddress(c: Context): string | null {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}
