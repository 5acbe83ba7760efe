// docs/recipes/self-service-form.md: the recipe's app (examples/recipes/self-service-form.ts),
// started on 127.0.0.1 and walked by a browser that keeps cookies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, createPasses, SCOPE } from "../../examples/recipes/self-service-form.js";
import type { Visitor, VisitorPass } from "../../src/index.js";
import { Client } from "../behaviour/client.js";
import { type Listening, listen } from "./support.js";

describe("recipe: the self-service form with the app's own fields", () => {
  let passes: VisitorPass;
  let app: Listening;
  const created: Visitor[] = [];

  beforeAll(async () => {
    passes = createPasses("sqlite::memory:");
    await passes.migrate();
    passes.on("selfServiceVisitorCreated", (visitor) => {
      created.push(visitor);
    });
    app = await listen(createApp(passes, "s".repeat(32)));
  });
  afterAll(async () => {
    await app.close();
    await passes.close();
  });

  it("pre-fills the email, refuses a missing company with 400, keeps the answers, thanks by name", async () => {
    const ginger = new Client(app.url, { redirect: "manual" });
    const start = await ginger.get("/early-access?email=ginger%40example.org");
    await start.arrayBuffer();
    expect(start.status).toBe(302);
    const form = start.headers.get("location")!;

    const page = await (await ginger.get(form)).text();
    expect(page).toContain('value="ginger@example.org"');
    expect(page).toContain("Why do you want early access?");

    const post = (fields: Record<string, string>) =>
      ginger.post(form, {
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "sec-fetch-site": "same-origin",
        },
        body: new URLSearchParams(fields).toString(),
      });
    const fields = { firstName: "Ginger", lastName: "Rogers", email: "ginger@example.org" };
    const refused = await post({ ...fields, reason: "To <dance>" });
    expect(refused.status).toBe(400);
    const again = await refused.text();
    expect(again).toContain("Tell us where you work.");
    expect(again).toContain("To &lt;dance&gt;</textarea>");
    expect(created).toEqual([]);

    const thanks = await post({ ...fields, company: "RKO <Pictures>", reason: "To dance" });
    expect(thanks.status).toBe(200);
    expect(await thanks.text()).toContain("Thanks, Ginger of RKO &#60;Pictures&#62;");
    expect(created).toHaveLength(1);
    const visitor = created[0]!;
    expect(visitor).toMatchObject({ scope: SCOPE, isActive: true });
    expect(visitor.context).toMatchObject({ company: "RKO <Pictures>", reason: "To dance" });

    // The emailed link admits; the page shows the company from the pass's context.
    const link = passes.tokenise(String(visitor.context?.redirectTo), visitor);
    const landing = await ginger.get(link);
    await landing.arrayBuffer();
    expect(landing.status).toBe(302);
    const welcome = await ginger.get(landing.headers.get("location")!);
    expect(await welcome.text()).toContain("Welcome, Ginger of RKO &#60;Pictures&#62;.");
  });
});
