import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import makeFetchCookie from "fetch-cookie";
import { CookieJar } from "tough-cookie";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoApp, SCOPE } from "../../examples/express-demo/app.js";
import { createDemoPasses } from "../../examples/express-demo/passes.js";
import { DemoState } from "../../examples/express-demo/state.js";
import type { VisitorPass } from "../../src/index.js";

/** The express demo's fresh links, walked through a real server whose origin links are built on. */

let passes: VisitorPass;
let server: Server;
let base: string;
const state = new DemoState();

beforeAll(async () => {
  // Listening first: the pass service needs the origin its fresh links are built on.
  let app: RequestListener | undefined;
  server = createServer((req, res) => app?.(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  passes = createDemoPasses({ state, publicOrigin: base, database: "sqlite::memory:", env: {} });
  await passes.migrate();
  app = createDemoApp({ passes, state, sessionSecret: "demo test secret" });
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await passes?.close();
});

function browser() {
  const fetchWithCookies = makeFetchCookie(fetch, new CookieJar());
  return async (path: string, init: RequestInit = {}) => {
    const response = await fetchWithCookies(new URL(path, base), init);
    return { status: response.status, html: await response.text() };
  };
}

describe("express demo: fresh links", () => {
  it("Ginger's expired link gets her a fresh one in the outbox; Fred hears when she opens it", async () => {
    const ginger = await passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      lastName: "Rogers",
      scope: SCOPE,
      context: { requestedBy: "fred", message: "Could you vouch for my foxtrot?" },
      expiresAt: new Date(Date.now() - 60_000),
    });
    const open = browser();
    const old = passes.tokenise("/reference", ginger);
    const offer = await open(old);
    expect(offer.status).toBe(200);
    expect(offer.html).toContain("Send me a new link");
    expect(offer.html).not.toContain("ginger@example.org");

    const asked = await open(`${old}&vuid-fresh=1`, {
      method: "POST",
      headers: { origin: base, "sec-fetch-site": "same-origin" },
    });
    expect(asked.status).toBe(200);
    expect(asked.html).toContain("Check your inbox");
    await expect.poll(() => state.outbox().length, { timeout: 3000 }).toBe(1);
    const [email] = state.outbox();
    expect(email!.to).toBe("Ginger Rogers <ginger@example.org>");
    expect(email!.subject).toBe("Your new link");
    expect(email!.link!.startsWith(`${base}/reference?vuid=`)).toBe(true);

    // The outbox page shows it; opening it lets Ginger in, and Fred is told.
    const outbox = await open("/outbox");
    expect(outbox.html).toContain("Your new link");
    const reference = await open(email!.link!);
    expect(reference.status).toBe(200);
    expect(reference.html).toContain("Could you vouch for my foxtrot?");
    const [notice] = state.outbox();
    expect(notice).toMatchObject({ to: "Fred", subject: "Ginger Rogers opened your link" });
    expect(notice!.link).toBeNull();
    expect((await open("/outbox")).html).toContain("Ginger Rogers opened your link");
  });
});
