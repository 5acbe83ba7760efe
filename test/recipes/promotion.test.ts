// docs/recipes/promotion.md: the recipe's app (examples/recipes/promotion.ts), started on
// 127.0.0.1 and walked by a browser that keeps cookies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createApp,
  createPasses,
  SCOPE,
  users,
  welcomes,
} from "../../examples/recipes/promotion.js";
import type { VisitorPass } from "../../src/index.js";
import { Client } from "../behaviour/client.js";
import { type Listening, listen, pathOf } from "./support.js";

describe("recipe: promoting a visitor to an account", () => {
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

  it("signs up: the pass is promoted, its access ends, the account reads its context and visits", async () => {
    const visitor = await passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      scope: SCOPE,
      context: { invitedBy: "Fred <fred@example.org>" },
    });
    const link = passes.tokenise(`${app.url}/trial`, visitor);
    const ginger = new Client(app.url);
    const trial = await ginger.get(pathOf(link));
    expect(trial.status).toBe(200);
    expect(await trial.text()).toContain("Welcome Ginger");
    expect((await ginger.get("/trial")).status).toBe(200);

    const signedUp = await ginger.post("/sign-up", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(signedUp.status).toBe(200);
    expect(signedUp.url).toBe(`${app.url}/account`);
    const account = await signedUp.text();
    expect(account).toMatch(/Account u\d+, invited by Fred &#60;fred@example.org&#62;\./);
    expect(account).toContain("2 visits before you signed up.");
    const userId = /Account (u\d+)/.exec(account)![1]!;
    expect(users.get(userId)).toEqual({ email: "ginger@example.org" });

    const stored = await passes.get(visitor.uuid);
    expect(stored).toMatchObject({ promotedTo: userId, isActive: false });
    await passes.flush();
    expect(welcomes).toContainEqual({ to: "ginger@example.org", userId });

    // The visitor access is over, in this session and for the link.
    expect((await ginger.get("/trial")).status).toBe(403);
    const other = new Client(app.url);
    expect((await other.get(pathOf(link))).status).toBe(403);
    expect((await other.post("/sign-up")).status).toBe(403);
  });
});
