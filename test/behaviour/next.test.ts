import { describe, expect, it } from "vitest";
import { nextHarness } from "./next-harness.js";
import { click, newPass, SQLITE, useApp, whoami } from "./support.js";

/**
 * What only Next.js has: Server Components guarded by `requireVisitor`, a Server Action that ends
 * the visit with `clearVisitor`, and the refusals Next renders (`forbidden()`, `notFound()`).
 * Pages of the fixture app (test/next/app/app/page/…), served in production mode.
 */
describe("Next.js pages and actions", () => {
  const ctx = useApp(nextHarness, SQLITE);

  it("a Server Component renders for the visitor of its scope, logged with its path", async () => {
    const visitor = await newPass(ctx.passes);
    const client = ctx.client();
    await click(client, ctx.passes, visitor, "/page/reference?from=mail");
    const page = await client.get("/page/reference?from=mail");
    expect(page.status).toBe(200);
    // React separates the text and the name with a comment.
    expect(await page.text()).toMatch(new RegExp(`Reference for (<!-- -->)?${visitor.fullName}`));
    const logs = await ctx.passes.logs(visitor.uuid);
    expect(logs.map((log) => [log.requestUri, log.queryString, log.statusCode])).toEqual([
      ["/page/reference", "from=mail", 200],
    ]);
  });

  it("a landing on a page redirects off the token before the page renders", async () => {
    const visitor = await newPass(ctx.passes);
    const client = ctx.client("manual");
    const landing = await client.get(ctx.passes.tokenise("/page/reference", visitor));
    expect(landing.status).toBe(302);
    expect(landing.headers.get("location")).toBe("/page/reference");
    expect(await ctx.passes.logs(visitor.uuid)).toEqual([]);
  });

  it("anyone else gets Next's 403 from forbidden(), and nothing is logged", async () => {
    const other = await newPass(ctx.passes, { scope: "SOMETHING_ELSE" });
    const client = ctx.client();
    await click(client, ctx.passes, other, "/page/reference");
    expect((await client.get("/page/reference")).status).toBe(403);
    expect((await ctx.client().get("/page/reference")).status).toBe(403);
    expect(await ctx.passes.logs(other.uuid)).toEqual([]);
  });

  it("onRefused replaces forbidden(): notFound() answers 404", async () => {
    expect((await ctx.client().get("/page/hidden")).status).toBe(404);
    const visitor = await newPass(ctx.passes);
    const client = ctx.client();
    await click(client, ctx.passes, visitor, "/page/hidden");
    expect((await client.get("/page/hidden")).status).toBe(200);
  });

  it("selfService sends a stranger from a page to the self-service form", async () => {
    const client = ctx.client("manual");
    const response = await client.get("/page/apply?x=1");
    expect([303, 307]).toContain(response.status);
    const location = response.headers.get("location") ?? "";
    const uuid = /^\/visitors\/self-service\/([0-9a-f-]{36})$/.exec(location)?.[1];
    expect(uuid).toBeDefined();
    const pending = await ctx.passes.get(uuid!);
    expect(pending?.isActive).toBe(false);
    expect(pending?.context).toMatchObject({ selfService: true, redirectTo: "/page/apply?x=1" });
    const form = await client.get(location);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain("<form");
  });

  it("a Server Action ends the visit with clearVisitor(): the cookie is cleared at once", async () => {
    const visitor = await newPass(ctx.passes);
    const client = ctx.client("manual");
    await click(client, ctx.passes, visitor, "/page/reference");
    const html = await (await client.get("/page/reference")).text();
    // The form as a browser without JavaScript posts it: Next's hidden action field.
    const field = /name="(\$ACTION_ID_[0-9a-f]+)"/.exec(html)?.[1];
    expect(field).toBeDefined();
    const body = new FormData();
    body.set(field!, "");
    const sent = await client.post("/page/reference", {
      body,
      headers: { origin: ctx.app.url },
    });
    expect(sent.status).toBe(303);
    expect(sent.headers.get("location")).toBe("/page/thanks");
    expect(sent.headers.getSetCookie().join("\n")).toMatch(
      /visitor_pass=;.*Expires=Thu, 01 Jan 1970/,
    );
    expect(await whoami(client)).toEqual({ visitor: null, isVisitor: false });
    expect((await client.get("/page/reference")).status).toBe(403);
    // The pass itself stays valid: the session, not the pass, was ended.
    expect((await ctx.passes.get(visitor.uuid))?.isValid).toBe(true);
  });
});
