import http from "node:http";
import { createServer as createHttp2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { closeGracefully as closeHonoServer } from "../adapters/hono/index.js";
import { VisitorPassConfigError } from "../core/errors.js";
import { closeGracefully } from "../index.js";

function listen(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as AddressInfo).port }),
    );
  });
}

function get(agent: http.Agent, port: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/", agent }, (response) => {
        response.resume();
        response.on("end", () => resolve(response));
      })
      .on("error", reject);
  });
}

describe("closeGracefully", () => {
  it("refuses a timeout that is not a number of milliseconds", async () => {
    const { server } = await listen((_req, res) => res.end("ok"));
    try {
      for (const timeout of [-1, Number.NaN, "5" as unknown as number]) {
        await expect(closeGracefully(server, null, { timeout })).rejects.toThrow(
          VisitorPassConfigError,
        );
      }
    } finally {
      server.close();
    }
  });

  it("closes an idle keep-alive connection without waiting for the bound", async () => {
    const { server, port } = await listen((_req, res) => res.end("ok"));
    const agent = new http.Agent({ keepAlive: true });
    const first = await get(agent, port);
    expect(first.headers.connection).toBe("keep-alive");
    const started = Date.now();
    const closed = { passes: false };
    const passes = {
      close: async () => {
        closed.passes = true;
      },
    };
    const result = await closeGracefully(server, passes, { timeout: 10_000 });
    expect(result).toEqual({ forced: false });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(closed.passes).toBe(true);
    agent.destroy();
  });

  it("lets a request in flight finish, and answers the next one with Connection: close", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let served = 0;
    const { server, port } = await listen((_req, res) => {
      served += 1;
      if (served === 1) void held.then(() => res.end("first"));
      else res.end("next");
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const inFlight = get(agent, port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const closing = closeGracefully(server, null, { timeout: 10_000 });
    release();
    expect((await inFlight).statusCode).toBe(200);
    // The same keep-alive connection (one socket at most): told to go away.
    const next = await get(agent, port);
    expect(next.statusCode).toBe(200);
    expect(next.headers.connection).toBe("close");
    expect(await closing).toEqual({ forced: false });
    expect(Date.now() - started).toBeLessThan(3_000);
    agent.destroy();
  });

  it("cuts what is still busy at the bound", async () => {
    const { server, port } = await listen(() => {});
    const agent = new http.Agent({ keepAlive: true });
    const stuck = get(agent, port).then(
      () => "answered",
      () => "cut",
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    expect(await closeGracefully(server, null, { timeout: 300 })).toEqual({ forced: true });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await stuck).toBe("cut");
    agent.destroy();
  });

  it("for Hono, refuses an HTTP/2 server with a clear error", async () => {
    const server = createHttp2Server();
    await expect(closeHonoServer(server)).rejects.toThrow(VisitorPassConfigError);
  });
});
