import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Listening {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** Starts a Node request listener (an Express app) on 127.0.0.1, on a free port. */
export async function listen(app: {
  listen(port: number, host: string, callback: () => void): Server;
}): Promise<Listening> {
  let server!: Server;
  await new Promise<void>((resolve) => {
    server = app.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The action of a confirmation page's form, as a path a client can POST to. */
export function confirmAction(page: string): string {
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  if (!action) throw new Error("no confirmation form on the page");
  return action.replace(/&amp;/g, "&");
}

/** `url` as a path on its site (what a client with a base URL requests). */
export function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}
