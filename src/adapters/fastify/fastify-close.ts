import type { FastifyInstance } from "fastify";
import {
  type Closable,
  type CloseGracefullyOptions,
  type CloseResult,
  closeTimeout,
  drainServer,
} from "../../server/graceful-close.js";

/**
 * Shuts a Fastify app down without losing a visit: its server stops accepting connections; every
 * response from now on carries `Connection: close`, so that keep-alive clients go elsewhere;
 * requests in flight finish; idle keep-alive connections are closed, and those still busy after
 * `timeout` are cut. Then `app.close()` runs the app's `preClose` and `onClose` hooks, and
 * `passes.close()` writes the queued visit logs and releases the database.
 *
 * The server is drained before `app.close()` because Fastify's close (Node's `server.close()`)
 * closes every idle keep-alive connection at once, resetting requests clients have already sent
 * on them.
 *
 * @example
 * ```ts
 * import { closeGracefully, handleSignals } from "visitor-pass/fastify";
 *
 * await app.listen({ port: 3000 });
 * // On SIGTERM/SIGINT: stop accepting, finish requests, write the visit logs, close the store.
 * handleSignals(() => closeGracefully(app, passes, { timeout: 5_000 }));
 * ```
 */
export async function closeGracefully(
  app: FastifyInstance,
  passes?: Closable | null,
  options: CloseGracefullyOptions = {},
): Promise<CloseResult> {
  const timeout = closeTimeout(options.timeout);
  const forced = await drainServer(app.server, timeout);
  await app.close();
  await passes?.close();
  return { forced };
}
