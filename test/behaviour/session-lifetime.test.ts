import { Cookie } from "tough-cookie";
import { afterEach, describe, expect, it } from "vitest";
import { type Client, setCookies } from "./client.js";
import { HARNESSES } from "./harness.js";
import { type AppContext, Clock, click, newPass, SQLITE, useApp, uses, whoami } from "./support.js";

/**
 * A pass's `sessionExpiry` is absolute, counted on the server from the admission: a script that
 * keeps resending the cookie (express-session renews its stored session on every request) does
 * not keep access past it, and landing again with the link renews nothing.
 */

/** What a script replaying the session cookie sends: the cookies, nothing else. */
async function replay(ctx: AppContext, cookies: string, path: string): Promise<Response> {
  const response = await fetch(`${ctx.app.url}${path}`, {
    headers: { cookie: cookies },
    redirect: "manual",
  });
  await response.arrayBuffer();
  return response;
}

/** When the session cookie `response` sets expires (epoch ms; Infinity for a browser session). */
function expiries(ctx: AppContext, response: Response): number[] {
  return setCookies(response)
    .map((header) => Cookie.parse(header))
    .filter((cookie) => cookie?.key === ctx.app.sessionCookie)
    .map((cookie) => cookie!.expiryTime() ?? Number.POSITIVE_INFINITY);
}

async function landAgain(client: Client, ctx: AppContext, uuid: string): Promise<Response> {
  return click(client, ctx.passes, uuid);
}

describe.each(HARNESSES)("the pass's session lifetime: $name", (harness) => {
  const clock = new Clock();
  afterEach(() => clock.reset());
  const ctx = useApp(harness, SQLITE, { now: clock.now });

  it("a replayed cookie is honoured until sessionExpiry after admission, then not", async () => {
    const visitor = await newPass(ctx.passes, { sessionExpiry: 3600 });
    const vera = ctx.client();
    await click(vera, ctx.passes, visitor);
    const cookies = await vera.jar.getCookieString(ctx.app.url);
    expect(cookies).toContain(`${ctx.app.sessionCookie}=`);
    // Every ten minutes, as a script keeping the session alive would.
    for (let minutes = 10; minutes < 60; minutes += 10) {
      clock.advance(600);
      expect((await replay(ctx, cookies, "/reference")).status).toBe(200);
    }
    clock.advance(599);
    expect((await replay(ctx, cookies, "/reference")).status).toBe(200);
    clock.advance(1);
    expect((await replay(ctx, cookies, "/reference")).status).toBe(403);
    const who = await fetch(`${ctx.app.url}/whoami`, { headers: { cookie: cookies } });
    expect(await who.json()).toEqual({ visitor: null, isVisitor: false });
    // The request itself goes on, anonymous.
    expect((await replay(ctx, cookies, "/public")).status).toBe(200);
    // …and the browser's own session is over too.
    expect(await whoami(vera)).toEqual({ visitor: null, isVisitor: false });
  });

  it.each<[string, { maxUses?: number }, number]>([
    ["once the link expired", {}, 400],
    ["once the link is used up", { maxUses: 1 }, 10],
    ["while the link is still valid", {}, 10],
  ])("landing again %s renews nothing", async (_label, input, later) => {
    const visitor = await newPass(ctx.passes, { sessionExpiry: 3600, ...input });
    const vera = ctx.client("manual");
    const first = await click(vera, ctx.passes, visitor);
    expect(first.status).toBe(302);
    const [firstExpiry] = expiries(ctx, first);
    expect(firstExpiry).toBeDefined();

    clock.advance(later);
    const again = await landAgain(vera, ctx, visitor.uuid);
    expect(again.status).toBe(302);
    expect(again.headers.get("location")).toBe("/reference");
    for (const expiry of expiries(ctx, again)) expect(expiry).toBeLessThanOrEqual(firstExpiry!);
    expect(await uses(ctx.passes, visitor.uuid)).toBe(1);

    clock.advance(3600 - later - 1);
    await landAgain(vera, ctx, visitor.uuid);
    expect((await vera.get("/reference")).status).toBe(200);
    clock.advance(1);
    expect((await vera.get("/reference")).status).toBe(403);
    expect(await whoami(vera)).toEqual({ visitor: null, isVisitor: false });
  });

  it("after the session's lifetime, a link that can still admit admits afresh", async () => {
    const visitor = await newPass(ctx.passes, { sessionExpiry: 60, expiresAt: null });
    const vera = ctx.client("manual");
    await click(vera, ctx.passes, visitor);
    clock.advance(60);
    expect((await vera.get("/reference")).status).toBe(403);
    expect((await click(vera, ctx.passes, visitor)).status).toBe(302);
    expect(await uses(ctx.passes, visitor.uuid)).toBe(2);
    clock.advance(59);
    expect((await vera.get("/reference")).status).toBe(200);
  });
});
