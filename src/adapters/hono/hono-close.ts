import type { Http2SecureServer, Http2Server } from "node:http2";
import { VisitorPassConfigError } from "../../core/errors.js";
import {
  type Closable,
  type CloseGracefullyOptions,
  type CloseResult,
  closeGracefully as closeNodeServer,
  type NodeServer,
} from "../../server/graceful-close.js";

/**
 * `closeGracefully` for the server @hono/node-server's `serve()` returns (typed as any of Node's
 * servers): `closeGracefully(serve({ fetch: app.fetch, port }), passes)`. An HTTP/2 server is
 * refused with a `VisitorPassConfigError`: its sessions are not keep-alive connections.
 *
 * @example
 * ```ts
 * import { serve } from "@hono/node-server";
 * import { closeGracefully, handleSignals } from "visitor-pass/hono";
 *
 * const server = serve({ fetch: app.fetch, port: 3000 });
 * handleSignals(() => closeGracefully(server, passes));
 * ```
 */
export function closeGracefully(
  server: NodeServer | Http2Server | Http2SecureServer,
  passes?: Closable | null,
  options: CloseGracefullyOptions = {},
): Promise<CloseResult> {
  if (typeof (server as Partial<NodeServer>).closeIdleConnections !== "function") {
    return Promise.reject(
      new VisitorPassConfigError(
        "server",
        server?.constructor?.name,
        "closeGracefully() needs a node:http or node:https server",
      ),
    );
  }
  return closeNodeServer(server as NodeServer, passes, options);
}
