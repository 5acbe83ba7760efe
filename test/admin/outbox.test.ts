import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VisitorPass } from "../../src/index.js";
import {
  ADMIN_HEADER,
  ADMIN_SECRET,
  FRAMEWORKS,
  MOUNT,
  openPasses,
  type RunningServer,
} from "./support.js";

const HOSTILE_URL = 'https://app.example/p?x="><script>alert(1)</script>&vuid=1';

/** The development outbox's admin page, in each framework, on and off. */
describe.each(FRAMEWORKS)("the outbox page on $name", (framework) => {
  let development: { passes: VisitorPass; server: RunningServer };
  let production: { passes: VisitorPass; server: RunningServer };

  beforeAll(async () => {
    const dev = await openPasses({ env: { NODE_ENV: "development" } });
    const prod = await openPasses({ env: { NODE_ENV: "production" } });
    development = { passes: dev, server: await framework.start(dev) };
    production = { passes: prod, server: await framework.start(prod) };
  });

  afterAll(async () => {
    for (const app of [development, production]) {
      await app?.server.close();
      await app?.passes.close();
    }
  });

  const get = async (server: RunningServer, path: string, admin = true) => {
    const response = await fetch(`${server.url}${MOUNT}${path}`, {
      headers: admin ? { [ADMIN_HEADER]: ADMIN_SECRET } : {},
    });
    return { status: response.status, body: await response.text(), headers: response.headers };
  };

  it("lists the links sent in development, newest first, escaped, linked from the navigation", async () => {
    const { passes, server } = development;
    const ginger = await passes.create({ email: "ginger@example.org", scope: "REFERENCE" });
    const link = passes.tokenise("https://app.example/reference", ginger);
    // Without any sendLink of the app's own: the outbox alone still receives the links.
    await passes.config.sendLink!({ visitor: ginger, url: link, reason: "selfService" });
    await passes.config.sendLink!({ visitor: ginger, url: HOSTILE_URL, reason: "freshLink" });

    const page = await get(server, "/outbox");
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.body).toContain(`<a href="${link}" rel="noreferrer">${link}</a>`);
    expect(page.body).toContain("ginger@example.org");
    expect(page.body).not.toContain("<script>alert(1)</script>");
    expect(page.body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page.body.indexOf("Fresh link")).toBeLessThan(page.body.indexOf("Self-service</td>"));
    const list = await get(server, "/");
    expect(list.body).toContain(`href="${MOUNT}/outbox"`);
  });

  it("carries the admin's authorization", async () => {
    const page = await get(development.server, "/outbox", false);
    expect(page.status).toBe(403);
    expect(page.body).not.toContain("ginger@example.org");
  });

  it("does not exist in production (404), and is not in the navigation", async () => {
    const { passes, server } = production;
    expect(passes.config.sendLink).toBeNull();
    const page = await get(server, "/outbox");
    expect(page.status).toBe(404);
    const list = await get(server, "/");
    expect(list.status).toBe(200);
    expect(list.body).not.toContain("/outbox");
  });
});
