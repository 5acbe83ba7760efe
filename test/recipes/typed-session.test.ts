// docs/recipes/typed-session.md: examples/recipes/typed-session.ts is type-checked by
// `npm run typecheck` (tsconfig.json includes examples/: without its `declare module` the
// `req.session.account` reads do not compile), and run here: the typed fields decide who is
// signed in and who may see the admin pages.
import type { SessionData } from "express-session";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { createApp } from "../../examples/recipes/typed-session.js";
import { createVisitorPass, type VisitorPass } from "../../src/index.js";
import { Client } from "../behaviour/client.js";
import { type Listening, listen, pathOf } from "./support.js";

describe("recipe: typing SessionData", () => {
  let passes: VisitorPass;
  let app: Listening;

  beforeAll(async () => {
    passes = createVisitorPass({ database: "sqlite::memory:", env: {} });
    await passes.migrate();
    app = await listen(createApp(passes, "t".repeat(32)));
  });
  afterAll(async () => {
    await app.close();
    await passes.close();
  });

  const signIn = (client: Client, name: string) =>
    client.post("/sign-in", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `name=${name}`,
    });

  it("the augmentation types the session's field", () => {
    expectTypeOf<SessionData["account"]>().toEqualTypeOf<
      { id: string; name: string; isStaff: boolean } | undefined
    >();
  });

  it("authorize reads the typed session: staff see the admin pages, others are refused", async () => {
    const fred = new Client(app.url);
    expect(await (await signIn(fred, "fred")).text()).toBe("Signed in as fred");
    expect((await fred.get("/admin/visitors")).status).toBe(200);

    const ginger = new Client(app.url);
    await signIn(ginger, "ginger");
    expect((await ginger.get("/admin/visitors")).status).toBe(403);
    expect((await new Client(app.url).get("/admin/visitors")).status).toBe(403);
  });

  it("isAuthenticated reads the typed session: a signed-in user's session ignores a link", async () => {
    const visitor = await passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      scope: "REFERENCE_REQUEST",
    });
    const link = passes.tokenise(`${app.url}/reference`, visitor);
    const signedIn = new Client(app.url);
    await signIn(signedIn, "barney");
    expect((await signedIn.get(pathOf(link))).status).toBe(403);
    expect((await passes.get(visitor.uuid))?.uses).toBe(0);

    const anonymous = new Client(app.url);
    expect(await (await anonymous.get(pathOf(link))).text()).toBe("Hello Ginger");
  });
});
