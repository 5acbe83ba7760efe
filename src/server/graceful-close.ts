import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { Server as NetServer } from "node:net";
import { VisitorPassConfigError } from "../core/errors.js";

/** Anything with an async `close()`: a `VisitorPass`, or whatever else the app closes last. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Options of `closeGracefully`.
 *
 * @example
 * ```ts
 * handleSignals(() => closeGracefully(server, passes, { timeout: 8_000 })); // Docker waits 10 s
 * ```
 */
export interface CloseGracefullyOptions {
  /**
   * Milliseconds the requests in flight get to finish; the connections still open then are cut.
   * Keep it below the time the process manager waits before a SIGKILL (Docker: 10 s,
   * Kubernetes: 30 s), so that the visit logs are written after it.
   * @default 5000
   */
  timeout?: number;
}

export interface CloseResult {
  /** Whether connections still busy at `timeout` were cut. */
  forced: boolean;
}

/** The default of `CloseGracefullyOptions.timeout`. */
export const DEFAULT_CLOSE_TIMEOUT = 5_000;

/**
 * How long a keep-alive connection may stay idle while draining, in milliseconds. Not closed at
 * once: a client may have sent its next request on it already (it is then read and answered with
 * `Connection: close`), and closing the connection would reset that request.
 */
const IDLE_GRACE = 1_000;

/** A `node:http` or `node:https` server, as `app.listen()` (Express) returns. */
export type NodeServer = HttpServer | HttpsServer;

/**
 * Shuts a `node:http` (or `node:https`) server down without losing a visit: it stops accepting
 * connections; every response from now on carries `Connection: close`, so that keep-alive clients
 * go elsewhere; requests in flight finish; idle keep-alive connections are closed, and those
 * still busy after `timeout` are cut. Then `passes.close()` writes the queued visit logs and
 * releases the database.
 *
 * Express: `closeGracefully(app.listen(port), passes)`; Hono on @hono/node-server:
 * `closeGracefully(serve(...), passes)`; Fastify has its own, in `visitor-pass/fastify`.
 * `handleSignals` calls it on SIGTERM or SIGINT.
 *
 * @example
 * ```ts
 * import { closeGracefully, handleSignals } from "visitor-pass/express";
 *
 * const server = app.listen(3000);
 * // On SIGTERM/SIGINT: stop accepting, finish requests, write the visit logs, close the store.
 * handleSignals(() => closeGracefully(server, passes, { timeout: 5_000 }));
 * ```
 */
export async function closeGracefully(
  server: NodeServer,
  passes?: Closable | null,
  options: CloseGracefullyOptions = {},
): Promise<CloseResult> {
  const timeout = closeTimeout(options.timeout);
  const forced = await drainServer(server, timeout);
  // Now that nothing is left, `http.Server#close` only stops its own timers.
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await passes?.close();
  return { forced };
}

/** The checked `timeout` option. */
export function closeTimeout(timeout: number | undefined): number {
  const value = timeout ?? DEFAULT_CLOSE_TIMEOUT;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new VisitorPassConfigError(
      "timeout",
      value,
      "must be a number of milliseconds, 0 or more",
    );
  }
  return value;
}

/**
 * Stops `server` accepting connections and waits for those open to end (cutting them after
 * `timeout`); resolves with whether it had to cut any. Its `close()` is still to be called (it
 * then only stops the server's timers).
 */
export function drainServer(server: NodeServer, timeout: number): Promise<boolean> {
  const closing = (_request: IncomingMessage, response: ServerResponse): void => {
    if (!response.headersSent) response.setHeader("Connection", "close");
  };
  server.prependListener("request", closing);
  // Responses finishing from now on (those in flight, whose headers may be out already) leave
  // their connection to Node's keep-alive timer, which closes it once idle this long.
  const keepAliveTimeout = server.keepAliveTimeout;
  server.keepAliveTimeout = Math.min(keepAliveTimeout || IDLE_GRACE, IDLE_GRACE);
  return new Promise<boolean>((resolve) => {
    let forced = false;
    // The connections idle since before: their keep-alive timer is the old, longer one.
    const idle = setTimeout(() => server.closeIdleConnections(), IDLE_GRACE);
    const bound = setTimeout(() => {
      forced = true;
      server.closeAllConnections();
    }, timeout);
    idle.unref();
    bound.unref();
    const done = (): void => {
      clearTimeout(idle);
      clearTimeout(bound);
      server.removeListener("request", closing);
      server.keepAliveTimeout = keepAliveTimeout;
      resolve(forced);
    };
    if (!server.listening) {
      // Already stopped by someone else: only its connections are left to wait for.
      waitForConnections(server, done);
      return;
    }
    // `net.Server#close`, not `http.Server#close`: the latter closes every idle connection at
    // once, resetting requests clients have already sent on them (see IDLE_GRACE).
    NetServer.prototype.close.call(server, done);
  });
}

/** Calls `done` once `server` has no connection left. */
function waitForConnections(server: NodeServer, done: () => void): void {
  const check = (): void => {
    server.getConnections((error, count) => {
      if (error || count === 0) done();
      else setTimeout(check, 100).unref();
    });
  };
  check();
}

/**
 * Options of `handleSignals`.
 *
 * @example
 * ```ts
 * // In a test, or where something else exits the process:
 * const stop = handleSignals(() => closeGracefully(server, passes), { signals: ["SIGTERM"], exit: false });
 * ```
 */
export interface HandleSignalsOptions {
  /** @default ["SIGTERM", "SIGINT"] */
  signals?: readonly NodeJS.Signals[];
  /**
   * Exit the process once `close` settled: code 0, or 1 when it threw.
   * @default true
   */
  exit?: boolean;
}

/**
 * Runs `close` (e.g. `() => closeGracefully(server, passes)`) on the first SIGTERM or SIGINT,
 * then exits. A second signal while it runs gets the signal's default action (the process
 * ends at once), as a second Ctrl-C is expected to. Returns a function that removes the handlers.
 *
 * @example
 * ```ts
 * import { closeGracefully, handleSignals } from "visitor-pass/express";
 *
 * const server = app.listen(3000);
 * const stopHandling = handleSignals(async () => {
 *   const { forced } = await closeGracefully(server, passes);
 *   if (forced) console.warn("Connections still busy at shutdown were cut.");
 *   await redis.quit(); // what the app closes last
 * });
 * ```
 */
export function handleSignals(
  close: () => unknown,
  options: HandleSignalsOptions = {},
): () => void {
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const exit = options.exit ?? true;
  const remove = (): void => {
    for (const signal of signals) process.removeListener(signal, onSignal);
  };
  const onSignal = (): void => {
    remove();
    Promise.resolve()
      .then(close)
      .then(
        () => {
          if (exit) process.exit(0);
        },
        (error: unknown) => {
          console.error("visitor-pass: closing failed:", error);
          if (exit) process.exit(1);
        },
      );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return remove;
}
