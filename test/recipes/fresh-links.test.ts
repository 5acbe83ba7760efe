// docs/recipes/fresh-links.md: the recipe's app (examples/recipes/fresh-links.ts), started on
// 127.0.0.1 and walked by browsers that keep cookies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, createPasses, SCOPE } from "../../examples/recipes/fresh-links.js";
import type { LinkMessage, VisitorPass } from "../../src/index.js";
import { Client } from "../behaviour/client.js";
import { confirmAction, type Listening, listen, pathOf } from "./support.js";

describe("recipe: fresh links", () => {
  const outbox: LinkMessage[] = [];
  let passes: VisitorPass;
  let app: Listening;

  beforeAll(async () => {
    passes = createPasses(async (message) => void outbox.push(message), {
      database: "sqlite::memory:",
      baseUrl: "https://app.example",
    });
    await passes.migrate();
    app = await listen(createApp(passes, "s".repeat(32)));
  });
  afterAll(async () => {
    await app.close();
    await passes.close();
  });

  it("Ginger's expired link offers a new one, mailed to her; it admits and the old one is dead", async () => {
    const ginger = await passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      scope: SCOPE,
      expiresAt: new Date(Date.now() - 60_000),
    });
    const old = passes.tokenise("/reference", ginger);
    const browser = new Client(app.url);
    const offer = await browser.get(old);
    const page = await offer.text();
    expect(offer.status).toBe(200);
    expect(page).toContain("This link no longer works");
    expect(page).not.toContain("ginger@example.org");

    const answer = await browser.post(confirmAction(page), {
      headers: { "sec-fetch-site": "same-origin" },
    });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain("Check your inbox");
    await expect.poll(() => outbox.length, { timeout: 3000 }).toBe(1);
    const { url, visitor, reason } = outbox[0]!;
    expect(reason).toBe("freshLink");
    expect(visitor.email).toBe("ginger@example.org");
    expect(url.startsWith("https://app.example/reference?vuid=")).toBe(true);

    const admitted = await new Client(app.url).get(pathOf(url));
    expect(admitted.status).toBe(200);
    expect(await admitted.text()).toContain("Hello Ginger");
    // The old link offers again, but names no pass: nothing more is sent.
    expect((await new Client(app.url).get(old)).status).toBe(200);
    expect(await passes.get(ginger.uuid)).toBeNull();
  });

  it("a request posted from another site is refused", async () => {
    const visitor = await passes.create({
      email: "ginger@example.org",
      scope: SCOPE,
      expiresAt: new Date(Date.now() - 60_000),
    });
    const forged = await new Client(app.url).post(
      `${passes.tokenise("/reference", visitor)}&vuid-fresh=1`,
      { headers: { "sec-fetch-site": "cross-site" } },
    );
    expect(forged.status).toBe(403);
    expect((await passes.get(visitor.uuid))?.uuid).toBe(visitor.uuid);
  });
});
