// docs/recipes/one-resource.md: the recipe's app (examples/recipes/one-resource.ts), started on
// 127.0.0.1 and walked by browsers that keep cookies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, createPasses, inviteFor } from "../../examples/recipes/one-resource.js";
import type { VisitorPass } from "../../src/index.js";
import { Client } from "../behaviour/client.js";
import { type Listening, listen, pathOf } from "./support.js";

describe("recipe: a pass for one resource", () => {
  let passes: VisitorPass;
  let app: Listening;
  const debug: string[] = [];

  beforeAll(async () => {
    const logger = { warn() {}, error() {}, debug: (line: string) => debug.push(line) };
    passes = createPasses("sqlite::memory:", logger);
    await passes.migrate();
    app = await listen(createApp(passes, "s".repeat(32)));
  });
  afterAll(async () => {
    await app.close();
    await passes.close();
  });

  it("Ginger sees reference 42 and nothing else; each visit to 42 is logged, 43 is refused", async () => {
    const link = await inviteFor(passes, app.url, "42");
    const uuid = new URL(link).searchParams.get("vuid")!;
    const ginger = new Client(app.url);
    const own = await ginger.get(pathOf(link));
    expect(own.status).toBe(200);
    expect(own.url).toBe(`${app.url}/references/42`);
    expect(await own.text()).toContain("Hello Ginger, this is reference 42.");

    const other = await ginger.get("/references/43");
    expect(other.status).toBe(403);
    expect(await other.text()).toContain("<h1>403</h1>");
    expect((await ginger.get("/references/42")).status).toBe(200);

    const logs = await passes.logs(uuid);
    expect(logs.map((log) => log.requestUri)).toEqual(["/references/42", "/references/42"]);

    // Someone without the link sees neither.
    expect((await new Client(app.url).get("/references/42")).status).toBe(403);

    // The debug lines told the refusal and why, without the token.
    expect(debug).toContainEqual(expect.stringContaining("the guard's match did not return true"));
    for (const line of debug) expect(line).not.toContain(uuid);
  });
});
