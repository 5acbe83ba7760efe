import { describe, expect, it } from "vitest";
import { HARNESSES } from "./harness.js";
import { REFERENCE_SCOPE } from "./routes.js";
import { newPass, SQLITE, useApp } from "./support.js";

/** The form's action on a confirmation page, as a path the client can POST to. */
function actionOf(page: string): string {
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  if (!action) throw new Error("no confirmation form on the page");
  return action.replace(/&amp;/g, "&");
}

describe.each(HARNESSES)("confirmation step for mail scanners: $name", (harness) => {
  const ctx = useApp(harness, SQLITE, { confirm: [REFERENCE_SCOPE] });

  it("a GET shows 'Continue as …' and admits nothing; the POST admits and leaves the token behind", async () => {
    const visitor = await newPass(ctx.passes, { firstName: "Ginger", lastName: "Rogers" });
    const scanner = ctx.client("manual");
    const page = await scanner.get(`/reference?x=1&vuid=${visitor.uuid}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(html).toContain("Continue as Ginger Rogers");
    expect((await ctx.passes.get(visitor.uuid))?.uses).toBe(0);
    expect((await scanner.json("/whoami")).body.isVisitor).toBe(false);

    const ginger = ctx.client("manual");
    const confirmed = await ginger.post(actionOf(html), {
      headers: { "sec-fetch-site": "same-origin" },
    });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get("location")).toBe("/reference?x=1");
    expect((await ctx.passes.get(visitor.uuid))?.uses).toBe(1);
    const after = await ginger.json("/reference?x=1");
    expect(after.status).toBe(200);
    expect(after.body.visitor).toBe(visitor.uuid);
  });

  it("a confirmation posted from another site admits nothing", async () => {
    const visitor = await newPass(ctx.passes);
    const client = ctx.client("manual");
    const html = await (await client.get(`/reference?vuid=${visitor.uuid}`)).text();
    const forged = await client.post(actionOf(html), {
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(forged.status).toBe(403);
    expect((await ctx.passes.get(visitor.uuid))?.uses).toBe(0);
    expect((await client.json("/whoami")).body.isVisitor).toBe(false);
  });

  it("passes of other scopes admit on the GET as usual", async () => {
    const visitor = await newPass(ctx.passes, { scope: "OTHER" });
    const landing = await ctx.client("manual").get(`/any?vuid=${visitor.uuid}`);
    expect(landing.status).toBe(302);
    expect((await ctx.passes.get(visitor.uuid))?.uses).toBe(1);
  });

  it("the form posts to a path on this site even for a request path starting with //", async () => {
    const visitor = await newPass(ctx.passes);
    for (const path of ["//evil.example/reference", "/\\evil.example/reference"]) {
      const page = await fetch(`${ctx.app.url}${path}?vuid=${visitor.uuid}`, {
        redirect: "manual",
      });
      const html = await page.text();
      if (harness.capabilities.normalisesTargets) {
        // The server redirects to the path with single slashes, on this site, first.
        expect(page.status).toBe(308);
        expect(page.headers.get("location")).toMatch(/^\/(?![/\\])/);
        continue;
      }
      expect(page.status).toBe(200);
      const action = actionOf(html);
      expect(action).toBe(`/evil.example/reference?vuid=${visitor.uuid}&vuid-confirm=1`);
      // As the browser would resolve it: on this site.
      expect(new URL(action, ctx.app.url).origin).toBe(ctx.app.url);
    }
    expect((await ctx.passes.get(visitor.uuid))?.uses).toBe(0);
  });

  it("an expired or used-up link gets no confirmation page", async () => {
    const expired = await newPass(ctx.passes, { expiresAt: new Date(Date.now() - 1000) });
    const client = ctx.client("manual");
    const response = await client.get(`/reference?vuid=${expired.uuid}`);
    expect(response.status).toBe(403);
  });
});
