import { afterEach, describe, expect, it } from "vitest";
import type { LinkMessage, Visitor, VisitorPass } from "../../src/index.js";
import type { Client } from "./client.js";
import { HARNESSES } from "./harness.js";
import { REFERENCE_SCOPE } from "./routes.js";
import { newPass, SQLITE, useApp, whoami } from "./support.js";

const BASE = "https://app.example";
const SAME_SITE = { headers: { "sec-fetch-site": "same-origin" } };
/** Budgets large enough that the tests of one app never meet them, unless a test means to. */
const ROOMY = { points: 1000, duration: 60 };

/** What the app's `sendLink` was given, in order. */
function outbox() {
  const sent: LinkMessage[] = [];
  return {
    sent,
    sendLink: (message: LinkMessage) => {
      sent.push(message);
    },
    /** Waits (at most 3 s) until `count` links were sent in all. */
    async until(count: number): Promise<void> {
      const deadline = Date.now() + 3000;
      while (sent.length < count && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(sent).toHaveLength(count);
    },
  };
}

/** Long enough for a request's work after its answer to have ended, when nothing is to be sent. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 250));

/** The form's action on the offer page, as a path the client can POST to. */
function actionOf(page: string): string {
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  if (!action) throw new Error("no form on the page");
  return action.replace(/&amp;/g, "&");
}

/** `response`, its body read (a body left unread aborts the connection under some servers). */
async function read(response: Promise<Response>): Promise<Response> {
  const done = await response;
  await done.arrayBuffer();
  return done;
}

/** A page with the token it was answered for taken out: what two answers are compared on. */
const withoutToken = (page: string, token: string) => page.split(token).join("TOKEN");

const expired = () => ({ expiresAt: new Date(Date.now() - 1000) });

/** GETs the link of `token` to `path` and, when it offers a fresh link, asks for one. */
async function askForFreshLink(client: Client, token: string, path = "/reference") {
  const offer = await client.get(`${path}?vuid=${token}`, { redirect: "manual" });
  const offerPage = await offer.text();
  const answer = await client.post(`${path}?vuid=${token}&vuid-fresh=1`, SAME_SITE);
  return { offer, offerPage, answer, answerPage: await answer.text() };
}

describe.each(HARNESSES)("fresh links: $name", (harness) => {
  const mail = outbox();
  const ctx = useApp(harness, SQLITE, {
    sendLink: mail.sendLink,
    freshLinks: { scopes: [REFERENCE_SCOPE], baseUrl: BASE },
    throttle: { landing: ROOMY, freshLink: ROOMY },
  });
  afterEach(() => {
    mail.sent.length = 0;
  });

  it("an expired link offers a new one, sent to the address on file on a new token that admits", async () => {
    const ginger = await newPass(ctx.passes, { email: "ginger@example.org", ...expired() });
    const events: Visitor[] = [];
    const off = (ctx.passes as VisitorPass).on("freshLinkSent", ({ visitor }) => {
      events.push(visitor);
    });
    try {
      const client = ctx.client("manual");
      const offer = await client.get(`/reference?x=1&vuid=${ginger.uuid}`);
      const page = await offer.text();
      expect(offer.status).toBe(200);
      expect(offer.headers.get("cache-control")).toBe("no-store");
      expect(offer.headers.get("referrer-policy")).toBe("no-referrer");
      expect(page).toContain("Send me a new link");
      expect(page).not.toContain("ginger@example.org");
      expect(actionOf(page)).toBe(`/reference?x=1&vuid=${ginger.uuid}&vuid-fresh=1`);

      const answer = await client.post(actionOf(page), SAME_SITE);
      const answerPage = await answer.text();
      expect(answer.status).toBe(200);
      expect(answerPage).toContain("Check your inbox");
      expect(answerPage).not.toContain("ginger@example.org");
      await mail.until(1);
      const [message] = mail.sent;
      expect(message!.reason).toBe("freshLink");
      expect(message!.visitor.email).toBe("ginger@example.org");
      const url = new URL(message!.url);
      expect(url.origin).toBe(BASE);
      expect(url.pathname).toBe("/reference");
      expect(url.searchParams.get("x")).toBe("1");
      expect(url.searchParams.has("vuid-fresh")).toBe(false);
      const token = url.searchParams.get("vuid")!;
      expect(token).not.toBe(ginger.uuid);
      expect(answerPage).not.toContain(token);
      expect(events.map((visitor) => visitor.id)).toEqual([ginger.id]);

      // The old link stays dead: it names nothing now, and asking again sends nothing.
      expect(await ctx.passes.get(ginger.uuid)).toBeNull();
      const again = await askForFreshLink(ctx.client("manual"), ginger.uuid);
      expect(again.answer.status).toBe(200);
      await settle();
      expect(mail.sent).toHaveLength(1);

      // The new one admits, with a new expiry.
      const renewed = await ctx.passes.get(token);
      expect(renewed?.isValid).toBe(true);
      const visitorBrowser = ctx.client("manual");
      const landing = await read(visitorBrowser.get(`${url.pathname}${url.search}`));
      expect(landing.status).toBe(302);
      expect((await whoami(visitorBrowser)).visitor).toBe(token);
    } finally {
      off();
    }
  });

  it("a used-up link gets its uses back on the new token", async () => {
    const visitor = await newPass(ctx.passes, { maxUses: 1 });
    const first = ctx.client("manual");
    expect((await read(first.get(`/reference?vuid=${visitor.uuid}`))).status).toBe(302);
    const { offer, answer } = await askForFreshLink(ctx.client("manual"), visitor.uuid);
    expect(offer.status).toBe(200);
    expect(answer.status).toBe(200);
    await mail.until(1);
    const token = new URL(mail.sent[0]!.url).searchParams.get("vuid")!;
    expect((await ctx.passes.get(token))?.uses).toBe(0);
    expect((await read(ctx.client("manual").get(`/reference?vuid=${token}`))).status).toBe(302);
  });

  it("answers an unknown, deactivated or not-offered token exactly as an expired one, sending nothing", async () => {
    const known = await newPass(ctx.passes, expired());
    const reference = await askForFreshLink(ctx.client("manual"), known.uuid);
    await mail.until(1);
    mail.sent.length = 0;

    const deactivated = await newPass(ctx.passes, expired());
    await ctx.passes.deactivate(deactivated.uuid);
    const otherScope = await newPass(ctx.passes, { scope: "OTHER", ...expired() });
    const tokens = ["0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b", deactivated.uuid];
    for (const token of tokens) {
      const asked = await askForFreshLink(ctx.client("manual"), token);
      expect(asked.offer.status).toBe(reference.offer.status);
      expect(withoutToken(asked.offerPage, token)).toBe(
        withoutToken(reference.offerPage, known.uuid),
      );
      expect(asked.answer.status).toBe(reference.answer.status);
      expect(withoutToken(asked.answerPage, token)).toBe(
        withoutToken(reference.answerPage, known.uuid),
      );
    }
    // A pass whose scope is not offered fresh links: the POST answers the same too.
    const asked = await askForFreshLink(ctx.client("manual"), otherScope.uuid);
    expect(asked.answer.status).toBe(reference.answer.status);
    expect(withoutToken(asked.answerPage, otherScope.uuid)).toBe(
      withoutToken(reference.answerPage, known.uuid),
    );
    await settle();
    expect(mail.sent).toHaveLength(0);
    expect((await ctx.passes.get(deactivated.uuid))?.isActive).toBe(false);
    expect(await ctx.passes.get(otherScope.uuid)).not.toBeNull();
  });

  it("a scope not opted in behaves as before: the expired link lands as anonymous", async () => {
    const visitor = await newPass(ctx.passes, { scope: "OTHER", ...expired() });
    const client = ctx.client("manual");
    const landing = await client.get(`/any?vuid=${visitor.uuid}`);
    expect(landing.status).toBe(403);
    expect(await landing.text()).not.toContain("Send me a new link");
    expect((await whoami(client)).isVisitor).toBe(false);
  });

  it("a pass created with freshLinks: true is offered one whatever its scope", async () => {
    const visitor = await newPass(ctx.passes, { scope: "OTHER", freshLinks: true, ...expired() });
    expect(visitor.freshLinks).toBe(true);
    const { offerPage } = await askForFreshLink(ctx.client("manual"), visitor.uuid, "/any");
    expect(offerPage).toContain("Send me a new link");
    await mail.until(1);
    expect(new URL(mail.sent[0]!.url).pathname).toBe("/any");
  });

  it("refuses a request for a fresh link posted from another site, sending nothing", async () => {
    const visitor = await newPass(ctx.passes, expired());
    const forged = await read(
      ctx.client("manual").post(`/reference?vuid=${visitor.uuid}&vuid-fresh=1`, {
        headers: { "sec-fetch-site": "cross-site" },
      }),
    );
    expect(forged.status).toBe(403);
    await settle();
    expect(mail.sent).toHaveLength(0);
    expect((await ctx.passes.get(visitor.uuid))?.uuid).toBe(visitor.uuid);
  });

  it("builds the link on the configured origin whatever Host the request names", async () => {
    const visitor = await newPass(ctx.passes, expired());
    const answer = await read(
      ctx.client("manual").post(`/reference?vuid=${visitor.uuid}&vuid-fresh=1`, {
        headers: { "sec-fetch-site": "same-origin", "x-forwarded-host": "evil.example" },
      }),
    );
    expect(answer.status).toBe(200);
    await mail.until(1);
    expect(new URL(mail.sent[0]!.url).origin).toBe(BASE);
  });
});

describe.each(HARNESSES)("fresh-link throttles: $name", (harness) => {
  const mail = outbox();
  const ctx = useApp(harness, SQLITE, {
    sendLink: mail.sendLink,
    freshLinks: { scopes: true, baseUrl: BASE },
    throttle: {
      landing: ROOMY,
      freshLink: { points: 4, duration: 60 },
      freshLinkAddress: { points: 1, duration: 60 },
    },
  });

  it("sends one link per address in the window, answering the same; then 429 per network", async () => {
    const first = await newPass(ctx.passes, { email: "fred@example.org", ...expired() });
    const second = await newPass(ctx.passes, { email: "Fred@Example.org", ...expired() });
    const a = await askForFreshLink(ctx.client("manual"), first.uuid);
    await mail.until(1);
    const b = await askForFreshLink(ctx.client("manual"), second.uuid);
    expect(b.answer.status).toBe(a.answer.status);
    expect(withoutToken(b.answerPage, second.uuid)).toBe(withoutToken(a.answerPage, first.uuid));
    await settle();
    expect(mail.sent).toHaveLength(1);
    expect(await ctx.passes.get(second.uuid)).not.toBeNull();

    // Two more requests from this network, then 429 whatever the token.
    for (let i = 0; i < 2; i++) {
      const answer = await read(
        ctx.client("manual").post(`/reference?vuid=${second.uuid}&vuid-fresh=1`, SAME_SITE),
      );
      expect(answer.status).toBe(200);
    }
    const throttled = await read(
      ctx.client("manual").post(`/reference?vuid=${second.uuid}&vuid-fresh=1`, SAME_SITE),
    );
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
