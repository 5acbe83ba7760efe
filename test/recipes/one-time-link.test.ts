// docs/recipes/one-time-link.md: the recipe's app (examples/recipes/one-time-link.ts), started on
// 127.0.0.1 and walked by browsers that keep cookies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, createPasses, inviteOnce } from "../../examples/recipes/one-time-link.js";
import type { VisitorPass } from "../../src/index.js";
import { Client } from "../behaviour/client.js";
import { confirmAction, type Listening, listen, pathOf } from "./support.js";

describe("recipe: a one-time link", () => {
  let passes: VisitorPass;
  let app: Listening;

  beforeAll(async () => {
    passes = createPasses("sqlite::memory:");
    await passes.migrate();
    app = await listen(createApp(passes, "s".repeat(32)));
  });
  afterAll(async () => {
    await app.close();
    await passes.close();
  });

  const uuidOf = (link: string) => new URL(link).searchParams.get("vuid")!;

  it("a scanner's HEAD and GET spend nothing; Ginger confirms, writes, and the link is dead", async () => {
    const link = await inviteOnce(passes, app.url);
    const scanner = new Client(app.url, { redirect: "manual" });
    const head = await scanner.request(pathOf(link), { method: "HEAD" });
    await head.arrayBuffer();
    expect(head.status).not.toBe(302);
    expect((await passes.get(uuidOf(link)))?.uses).toBe(0);
    const scanned = await scanner.get(pathOf(link));
    expect(scanned.status).toBe(200);
    expect(await scanned.text()).toContain("Continue as Ginger");
    expect((await passes.get(uuidOf(link)))?.uses).toBe(0);
    expect((await scanner.get("/reference")).status).toBe(403);

    const ginger = new Client(app.url);
    const page = await (await ginger.get(pathOf(link))).text();
    const confirmed = await ginger.post(confirmAction(page), {
      headers: { "sec-fetch-site": "same-origin" },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.url).toBe(`${app.url}/reference`);
    expect(await confirmed.text()).toContain("Hello Ginger");
    expect((await passes.get(uuidOf(link)))?.uses).toBe(1);

    // A second browser with the same link: used up, no confirmation page, refused.
    const other = new Client(app.url);
    const refused = await other.get(pathOf(link));
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain("Continue as");

    const done = await ginger.post("/reference", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "text=A+fine+dancer",
    });
    expect(done.status).toBe(200);
    expect(done.url).toBe(`${app.url}/thanks`);
    expect((await ginger.get("/reference")).status).toBe(403);
    expect((await passes.get(uuidOf(link)))?.isActive).toBe(false);
  });

  it("the final step refuses a second session that still holds the pass", async () => {
    // Two uses on purpose: two sessions hold the pass, and one ending the task ends both.
    const visitor = await passes.create({
      email: "ginger@example.org",
      scope: "REFERENCE_REQUEST",
      maxUses: 2,
    });
    const link = passes.tokenise(`${app.url}/reference`, visitor);
    const [phone, laptop] = [new Client(app.url), new Client(app.url)];
    for (const browser of [phone, laptop]) {
      const page = await (await browser.get(pathOf(link))).text();
      await browser.post(confirmAction(page), { headers: { "sec-fetch-site": "same-origin" } });
      expect((await browser.get("/reference")).status).toBe(200);
    }
    await phone.post("/reference", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "text=done",
    });
    expect((await laptop.get("/reference")).status).toBe(403);
  });
});
