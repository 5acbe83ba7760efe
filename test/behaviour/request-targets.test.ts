import { randomUUID } from "node:crypto";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { HARNESSES } from "./harness.js";
import { click, newPass, SQLITE, useApp } from "./support.js";

function locationOf(response: RawResponse): string | null {
  const line = response.head.split("\r\n").find((header) => /^location:/i.test(header));
  return line ? line.slice(line.indexOf(":") + 1).trim() : null;
}

interface RawResponse {
  status: number;
  head: string;
}

/**
 * Sends `requestLine` as written (no client library normalises it) with a Host header and
 * `Connection: close`, and reads the status line of the answer. Bounded by `timeout`.
 */
function rawRequest(
  base: string,
  requestLine: string,
  headers: string[] = [],
  timeout = 5_000,
): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    let received = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${requestLine} within ${timeout} ms`));
    }, timeout);
    socket.setEncoding("latin1");
    socket.on("connect", () => {
      const lines = [requestLine, `Host: ${hostname}:${port}`, ...headers, "Connection: close"];
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      if (!match) {
        reject(
          new Error(`no status line in the answer to ${requestLine}: ${received.slice(0, 200)}`),
        );
        return;
      }
      resolve({ status: Number(match[1]), head: received.split("\r\n\r\n")[0] ?? "" });
    });
  });
}

/**
 * Request targets other than a plain path (RFC 9112 §3.2): the asterisk form of `OPTIONS *` and the
 * absolute form a proxy-style client sends. Session middlewares skip them (their cookie path does
 * not match), so they reach visitor-pass with no session; they go on as anonymous, never a 5xx.
 */
describe.each(HARNESSES)("request targets: $name", (harness) => {
  const ctx = useApp(harness, SQLITE);

  const origin = () => ctx.app.url;

  const { normalisesTargets } = harness.capabilities;

  it("OPTIONS * answers without a server error", async () => {
    const response = await rawRequest(origin(), "OPTIONS * HTTP/1.1");
    if (normalisesTargets) expect(response.head.toLowerCase()).not.toContain("set-cookie");
    else expect(response.status).toBeLessThan(500);
  });

  it("an absolute-form GET answers without a server error", async () => {
    for (const path of ["/x", "/", "/public", "/whoami", "/reference"]) {
      const response = await rawRequest(origin(), `GET ${origin()}${path} HTTP/1.1`);
      expect(response.status, path).toBeLessThan(500);
    }
  });

  it("an absolute-form GET of a public page answers it", async () => {
    const response = await rawRequest(origin(), `GET ${origin()}/public HTTP/1.1`);
    if (normalisesTargets) {
      // The server's own redirect, to the page on this site.
      expect(response.status).toBe(308);
      const location = new URL(locationOf(response) ?? "", origin());
      expect([location.origin, location.pathname]).toEqual([origin(), "/public"]);
    } else {
      expect(response.status).toBe(200);
    }
  });

  it("an absolute-form GET with a token admits to a local path, or goes on as anonymous", async () => {
    for (const path of ["/x", "/reference", "/whoami"]) {
      const visitor = await newPass(ctx.passes);
      const response = await rawRequest(
        origin(),
        `GET ${origin()}${path}?vuid=${visitor.uuid} HTTP/1.1`,
      );
      const spent = (await ctx.passes.get(visitor.uuid))?.uses;
      if (response.status === 302) {
        // Admitted through a session that took the target: sent on to the path on this site.
        expect(locationOf(response), path).toBe(path);
        expect(spent, path).toBe(1);
      } else {
        // No session took the target: anonymous, and the pass is not spent.
        expect(response.status, path).toBeLessThan(500);
        expect(response.head.toLowerCase(), path).not.toContain("set-cookie");
        expect(spent, path).toBe(0);
      }
    }
    const unknown = await rawRequest(origin(), `GET ${origin()}/x?vuid=${randomUUID()} HTTP/1.1`);
    expect(unknown.status).toBeLessThan(500);
    const malformed = await rawRequest(origin(), `GET ${origin()}/x?vuid=nope HTTP/1.1`);
    expect(malformed.status).toBeLessThan(500);
  });

  it("the asterisk form with a method other than OPTIONS answers without a server error", async () => {
    const response = await rawRequest(origin(), "GET * HTTP/1.1");
    if (normalisesTargets) expect(response.head.toLowerCase()).not.toContain("set-cookie");
    else expect(response.status).toBeLessThan(500);
  });

  it("a visitor's absolute-form visit to a guarded page is logged under its path", async () => {
    const visitor = await newPass(ctx.passes);
    const client = ctx.client();
    expect((await click(client, ctx.passes, visitor)).status).toBe(302);
    const cookie = await client.cookie(ctx.app.sessionCookie);
    expect(cookie).toBeDefined();
    const response = await rawRequest(origin(), `GET ${origin()}/reference?a=b HTTP/1.1`, [
      `Cookie: ${ctx.app.sessionCookie}=${cookie}`,
    ]);
    if (normalisesTargets) {
      // Redirected by the server before visitor-pass saw it: nothing logged.
      expect(response.status).toBe(308);
      expect(await ctx.passes.logs(visitor.uuid)).toEqual([]);
      return;
    }
    expect(response.status).toBeLessThan(500);
    const deadline = Date.now() + 5_000;
    let logs = await ctx.passes.logs(visitor.uuid);
    while (response.status === 200 && logs.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      logs = await ctx.passes.logs(visitor.uuid);
    }
    if (response.status === 200) {
      expect(logs.map((log) => [log.requestUri, log.queryString])).toEqual([["/reference", "a=b"]]);
    } else {
      // The session was not taken from an absolute-form target: refused, nothing logged.
      expect(response.status).toBe(403);
      expect(logs).toEqual([]);
    }
  });
});

describe.each(HARNESSES.filter((harness) => harness.capabilities.missingSession === "request"))(
  "request targets without a session layer: $name",
  (harness) => {
    const ctx = useApp(harness, SQLITE, {}, { setup: "no-session" });

    it("OPTIONS * goes on as anonymous, a path still fails loudly with the setup error", async () => {
      const star = await rawRequest(ctx.app.url, "OPTIONS * HTTP/1.1");
      expect(star.status).toBeLessThan(500);
      const { status, body } = await ctx.client().json("/");
      expect(status).toBe(500);
      expect(body).toMatchObject({ error: "VisitorPassError", code: "VISITOR_PASS_SETUP" });
    });
  },
);
