import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoApp } from "../../examples/express-demo/app.js";
import { createVisitorPass, type VisitorPass } from "../../src/index.js";
import {
  browserAvailable,
  launchChromium,
  screenshot,
  skipWithoutBrowser,
  warnIfSkipping,
} from "../support/chromium.js";

/**
 * The express demo in a real browser (Debian's Chromium, driven by playwright-core), each person
 * in a browser context of their own: Fred asks Ginger for a reference and she leaves it through
 * her link; then a stranger asks for early access on the self-service form and gets in through
 * the emailed link. Real clicks and typing; screenshots into artifacts/screenshots/demo-*.png.
 * Skipped when Chromium is missing, unless VISITOR_PASS_REQUIRE_BROWSER=1.
 */
warnIfSkipping("the demo browser test");

const VIEWPORT = { width: 1024, height: 768 };

describe("express demo in a browser", () => {
  let passes: VisitorPass;
  let server: Server | undefined;
  let base: string;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  /** Console errors and page errors (CSP violations included), per person. */
  const errors = new Map<string, string[]>();

  beforeAll(async () => {
    if (!browserAvailable) return;
    passes = createVisitorPass({ database: "sqlite::memory:", env: {} });
    await passes.migrate();
    const app = createDemoApp({ passes, sessionSecret: "demo browser test secret" });
    server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(0, "127.0.0.1", (error?: Error) =>
        error ? reject(error) : resolve(listening),
      );
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await passes?.close();
  });

  /** Someone with a browser of their own: a fresh context (own cookies), one tab. */
  async function person(name: string): Promise<Page> {
    const context = await browser!.newContext({ viewport: VIEWPORT, baseURL: base });
    contexts.push(context);
    const page = await context.newPage();
    const seen: string[] = [];
    errors.set(name, seen);
    const watch = (tab: Page) => {
      tab.on("console", (message) => {
        if (message.type() === "error") seen.push(`${tab.url()}: ${message.text()}`);
      });
      tab.on("pageerror", (error) => seen.push(`${tab.url()}: ${error.message}`));
    };
    watch(page);
    context.on("page", watch);
    return page;
  }

  /** The errors a person's browser reported, but the 403 of a page that refuses them on purpose. */
  function unexpectedErrors(name: string): string[] {
    return (errors.get(name) ?? []).filter(
      (error) => !/Failed to load resource: the server responded with a status of 403/.test(error),
    );
  }

  /** The text a person sees in `locator`: Playwright's rendered text, not a DOM property. */
  // biome-ignore lint/performance/useDomNodeTextContent: Locator.innerText() is Playwright's, not the DOM's
  const seen = (locator: Locator) => locator.innerText();
  const heading = (page: Page) => seen(page.locator("main h1").first());
  const main = (page: Page) => seen(page.locator("main"));
  const badge = (page: Page) => seen(page.getByLabel("Who you are"));

  it("Fred asks Ginger for a reference; she leaves it through her link, then is let go", async (context) => {
    skipWithoutBrowser(context);
    const fred = await person("fred");
    const ginger = await person("ginger");

    // Fred arrives, anonymous, and signs in.
    await fred.goto("/");
    expect(await heading(fred)).toBe("Visitor passes: the reference story");
    expect(await badge(fred)).toContain("Anonymous: not signed in, not visiting");
    await fred.getByRole("main").getByRole("button", { name: "Sign in as Fred" }).click();
    await fred.getByRole("heading", { name: "Hello, Fred" }).waitFor();
    expect(await badge(fred)).toContain("Signed in as Fred");
    expect(await main(fred)).toContain("You have not asked anyone yet.");
    expect(await main(fred)).toContain("Dance-floor early access");
    await screenshot(fred, "demo-home");

    // He asks Ginger: the form, typed into, and sent.
    await fred.getByRole("main").getByRole("link", { name: "Ask for a reference" }).click();
    await fred.getByRole("heading", { name: "Ask for a reference" }).waitFor();
    await fred.getByLabel("Their name").fill("Ginger Rogers");
    await fred.getByLabel("Their email").fill("ginger@example.com");
    const message = "Could you vouch for my foxtrot? We danced at the Savoy <3";
    await fred.getByLabel("Your message").fill(message);
    await screenshot(fred, "demo-ask");
    await fred.getByRole("button", { name: "Send the request" }).click();
    await fred.getByRole("status").waitFor();
    expect(await seen(fred.getByRole("status"))).toContain(
      "Your request is on its way to Ginger Rogers",
    );
    expect(fred.url()).toBe(`${base}/`);
    expect(await seen(fred.locator("table tbody tr"))).toContain("Pending");

    // He opens the outbox and copies the link from the email.
    await fred
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Outbox" })
      .click();
    await fred.getByRole("heading", { name: "Outbox" }).waitFor();
    const email = fred.locator("article.email").filter({ hasText: "asks you for a reference" });
    expect(await seen(email)).toContain("Ginger Rogers <ginger@example.com>");
    expect(await seen(email)).toContain(message);
    const link = await seen(email.locator(".email-link a"));
    const [pass] = await passes.list({ scope: "REFERENCE_REQUEST" });
    expect(link).toBe(`${base}/reference?vuid=${pass!.uuid}`);
    await screenshot(fred, "demo-outbox");

    // Ginger, in her own browser, opens it: the token is dropped from the address bar.
    await ginger.goto(link);
    expect(ginger.url()).toBe(`${base}/reference`);
    expect(await heading(ginger)).toBe("A reference for Fred");
    expect(await badge(ginger)).toContain("Visiting as Ginger Rogers · scope REFERENCE_REQUEST");
    expect(await main(ginger)).toContain(message);

    // Step 1: she writes her reference.
    const reference = "Fred leads like a dream & never steps on toes.";
    await ginger.getByLabel("Your reference").fill(reference);
    await screenshot(ginger, "demo-reference");
    await ginger.getByRole("button", { name: "Continue" }).click();

    // Step 2: she checks it and sends it.
    await ginger.getByRole("heading", { name: "Check your reference" }).waitFor();
    expect(await seen(ginger.locator("blockquote.reference-preview"))).toBe(reference);
    await screenshot(ginger, "demo-reference-check");
    await ginger.getByRole("button", { name: "Send the reference" }).click();

    // Thank you: her visit ends on that very page.
    await ginger.getByRole("heading", { name: "Thank you, Ginger" }).waitFor();
    // Reached by a redirect: a reload asks for the page again, never to resend the form.
    expect(ginger.url()).toBe(`${base}/reference/thanks`);
    await ginger.reload();
    await ginger.getByRole("heading", { name: "Thank you, Ginger" }).waitFor();
    expect(await badge(ginger)).toContain("Anonymous: not signed in, not visiting");
    await screenshot(ginger, "demo-thanks");

    // The guarded page refuses her now, and so does her link.
    for (const url of [`${base}/reference`, link]) {
      const response = await ginger.goto(url);
      expect(response?.status()).toBe(403);
      expect(await heading(ginger)).toBe("This page is for invited visitors");
    }
    await screenshot(ginger, "demo-refused");

    // Fred sees her reference on his home page, the request received.
    await fred
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Home" })
      .click();
    await fred.getByRole("heading", { name: "References you received" }).waitFor();
    const received = fred.locator("figure.reference");
    expect(await seen(received.locator("blockquote"))).toBe(reference);
    expect(await seen(received.locator("figcaption"))).toContain(
      "Ginger Rogers <ginger@example.com>",
    );
    expect(await seen(fred.locator("table tbody tr"))).toContain("Received");
    await screenshot(fred, "demo-home-received");

    expect(unexpectedErrors("fred")).toEqual([]);
    expect(unexpectedErrors("ginger")).toEqual([]);
  }, 60_000);

  it("a stranger asks for early access on the self-service form and gets in by the emailed link", async (context) => {
    skipWithoutBrowser(context);
    const frankie = await person("frankie");

    // From the home page to the early-access page, and on to the self-service form.
    await frankie.goto("/");
    expect(await main(frankie)).toContain("Nobody has to invite you here");
    await screenshot(frankie, "demo-home-anonymous");
    await frankie.getByRole("main").getByRole("link", { name: "Ask for early access" }).click();
    await frankie.getByRole("heading", { name: "Request access" }).waitFor();
    expect(frankie.url()).toMatch(/\/visitors\/self-service\/[0-9a-f-]{36}$/);
    const form = frankie.url();
    // The demo's own header, with a way back, on the form as on the page after it.
    const back = frankie.getByRole("link", { name: "← Back to the demo" });
    expect(await back.getAttribute("href")).toBe("/");
    const formWidth = (await frankie.locator("main .card").boundingBox())!.width;

    // A first try: no first name, an address at example.com.
    await frankie.getByLabel("Last name").fill("Manning");
    await frankie.getByLabel("Email address").fill("frankie@example.com");
    await frankie.getByRole("button", { name: "Email me a link" }).click();
    await frankie.getByRole("alert").waitFor();
    expect(frankie.url()).toBe(form);
    expect(await seen(frankie.getByRole("alert"))).toContain(
      "Please correct the fields marked below.",
    );
    const page = await seen(frankie.locator("main"));
    expect(page).toContain("Enter your first name.");
    expect(page).toContain("addresses at example.com cannot receive the link");
    expect(await frankie.getByLabel("Last name").inputValue()).toBe("Manning");
    expect(await frankie.getByLabel("First name").getAttribute("aria-invalid")).toBe("true");
    await screenshot(frankie, "demo-self-service-errors");

    // Then right: she is told to look for the email.
    await frankie.getByLabel("First name").fill("Frankie");
    await frankie.getByLabel("Email address").fill("frankie@savoy.example.org");
    await frankie.getByRole("button", { name: "Email me a link" }).click();
    await frankie.getByRole("heading", { name: "Check your email" }).waitFor();
    expect(frankie.url()).toBe(`${base}/visitors/self-service/sent`);
    expect(await main(frankie)).toContain("it works for 5 minutes");
    expect(await back.getAttribute("href")).toBe("/");
    expect((await frankie.locator("main .card").boundingBox())!.width).toBe(formWidth);
    await screenshot(frankie, "demo-self-service-sent");

    // She reads it in another tab (the demo's outbox, linked from that page) and clicks its link.
    const [mail] = await Promise.all([
      frankie.context().waitForEvent("page"),
      frankie.getByRole("link", { name: "outbox" }).click({ modifiers: ["Control"] }),
    ]);
    await mail.waitForLoadState();
    const email = mail.locator("article.email").filter({ hasText: "frankie@savoy.example.org" });
    expect(await seen(email.locator(".email-head"))).toContain(
      "Your early access to the dance floor",
    );
    expect(await seen(email)).toContain("Hello Frankie,");
    const [pass] = await passes.list({ scope: "EARLY_ACCESS" });
    expect(await seen(email.locator(".email-link a"))).toBe(
      `${base}/early-access?vuid=${pass!.uuid}`,
    );
    await screenshot(mail, "demo-outbox-early-access");
    await email.locator(".email-link a").click();

    // Greeted: a visitor for this scope, the token gone from the address bar.
    await mail.getByRole("heading", { name: "Welcome, Frankie" }).waitFor();
    expect(mail.url()).toBe(`${base}/early-access`);
    expect(await heading(mail)).toBe("Dance-floor early access");
    expect(await badge(mail)).toContain("Visiting as Frankie Manning · scope EARLY_ACCESS");
    await screenshot(mail, "demo-early-access");

    // The pass is in the session, so the first tab gets in too.
    await frankie.goto("/early-access");
    await frankie.getByRole("heading", { name: "Welcome, Frankie" }).waitFor();

    expect(unexpectedErrors("frankie")).toEqual([]);
  }, 60_000);
});
