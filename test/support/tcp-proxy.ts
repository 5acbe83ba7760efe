import net from "node:net";

/**
 * A TCP proxy in front of a database server that a test can cut and restore, to see what the
 * app does when its real connections drop and new ones are refused; or blackhole, to see what it
 * does when the network goes silent (connections stay open, nothing gets through).
 */
export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  /**
   * A silent partition: every connection, open or new, stays open, and nothing is forwarded
   * either way (what is sent meanwhile is lost, as dropped packets are). A side that closes its
   * connection meanwhile is heard by the other only once the link returns, as its FIN would be.
   */
  blackhole(): void;
  /** Ends the blackhole: forwards again, and passes on the closes held meanwhile. */
  heal(): void;
  /**
   * A reply lost after its request went through: the first chunk a client sends that contains
   * `marker` is forwarded, and from then on everything the server sends back on that connection
   * is dropped. Resolves when the server has answered (its first reply dropped), so the request
   * took effect and the client cannot know.
   */
  dropRepliesAfter(marker: string): Promise<void>;
  close(): Promise<void>;
}

interface Trap {
  marker: Buffer;
  answered: () => void;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let silent = false;
  /** Closes that happened during the blackhole, passed on when it ends. */
  const heldCloses = new Set<() => void>();
  let trap: Trap | null = null;

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    let swallowing: Trap | null = null;
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        if (silent) heldCloses.add(closeBoth);
        else closeBoth();
      });
    }
    client.on("data", (chunk: Buffer) => {
      if (silent) return;
      if (trap && chunk.includes(trap.marker)) {
        swallowing = trap;
        trap = null;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (silent) return;
      if (swallowing) {
        swallowing.answered();
        return;
      }
      client.write(chunk);
    });
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);
  const stop = () =>
    new Promise<void>((resolve) => {
      silent = false;
      heldCloses.clear();
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  return {
    port,
    cut: stop,
    restore: async () => {
      await listen(port);
    },
    blackhole: () => {
      silent = true;
    },
    heal: () => {
      silent = false;
      for (const close of heldCloses) close();
      heldCloses.clear();
    },
    dropRepliesAfter: (marker) =>
      new Promise<void>((resolve) => {
        trap = { marker: Buffer.from(marker), answered: resolve };
      }),
    close: stop,
  };
}
