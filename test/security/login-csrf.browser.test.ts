import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Visitor, VisitorPassOptions } from "../../src/index.js";
import { HARNESSES } from "../behaviour/harness.js";
import { newPass, SQLITE, useApp } from "../behaviour/support.js";
import {
  browserAvailable as available,
  launchChromium,
  skipWithoutBrowser,
  warnIfSkipping,
} from "../support/chromium.js";

/**
 * Login CSRF in a real browser (Debian's Chromium, driven by playwright-core): a page on another
 * site (`http://localhost:<port>`, while the app is on `http://127.0.0.1:<port>`: two sites)
 * auto-submits a form that POSTs Mallory's token to the app. It must admit nobody: an anonymous
 * Ginger stays anonymous, Ginger holding her own pass stays Ginger, and Fred stays signed in
 * and no visitor; Mallory's pass spends nothing. Skipped when Chromium is missing, unless
 * VISITOR_PASS_REQUIRE_BROWSER=1.
 */
warnIfSkipping("the login CSRF browser test");

/** The hostile site: answers every request with the page `html()` returns at that moment. */
async function hostileSite(html: () => string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    // Another site than the app's 127.0.0.1; Chromium resolves localhost to the loopback itself.
    url: `http://localhost:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An auto-submitting form posting to `action`, as the hostile site serves it. */
function formPage(action: string, enctype: string): string {
  const escaped = action.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  return `<!doctype html><title>Win a prize</title>
<form method="post" action="${escaped}" enctype="${enctype}"><input name="prize" value="1"></form>
<script>document.forms[0].submit()</script>`;
}

const SETUPS: [string, VisitorPassOptions][] = [
  ["default", {}],
  ["confirm: true", { confirm: true }],
];

let browser: Browser | undefined;
let site: Awaited<ReturnType<typeof hostileSite>> | undefined;
/** What the hostile site serves next. */
let page = "";

beforeAll(async () => {
  if (!available) return;
  site = await hostileSite(() => page);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe.each(HARNESSES)("login CSRF in a browser: $name", (harness) => {
  describe.each(SETUPS)("%s", (_label, options) => {
    const ctx = useApp(harness, SQLITE, options);

    /** Visits the hostile site, whose forms post Mallory's token; waits until the app answered. */
    async function attack(tab: Page, mallory: Visitor): Promise<void> {
      const targets: [string, string][] = [
        [ctx.passes.tokenise("/seen-url", mallory), "text/plain"],
        [ctx.passes.tokenise("/reference", mallory), "application/x-www-form-urlencoded"],
        [`${ctx.passes.tokenise("/seen-url", mallory)}&vuid-confirm=1`, "text/plain"],
      ];
      for (const [path, enctype] of targets) {
        page = formPage(`${ctx.app.url}${path}`, enctype);
        await Promise.all([
          tab.waitForURL((url) => url.href.startsWith(`${ctx.app.url}/`)),
          tab.goto(site!.url),
        ]);
        await tab.waitForLoadState("load");
        // The form did reach the app, which never saw the token.
        expect(tab.url()).toContain(mallory.uuid);
        if (path.startsWith("/seen-url")) {
          const seen = JSON.parse((await tab.textContent("pre")) ?? "") as { originalUrl: string };
          expect(seen.originalUrl).not.toContain(mallory.uuid);
        }
      }
    }

    async function who(tab: Page): Promise<{ visitor: string | null; isVisitor: boolean }> {
      await tab.goto(`${ctx.app.url}/whoami`);
      return JSON.parse((await tab.textContent("pre")) ?? "");
    }

    async function appCookies(context: BrowserContext): Promise<Record<string, string>> {
      const cookies = await context.cookies(ctx.app.url);
      return Object.fromEntries(cookies.map((cookie) => [cookie.name, cookie.value]));
    }

    /** Ginger's own click on her link, with the confirmation page's button when there is one. */
    async function land(tab: Page, visitor: Visitor): Promise<void> {
      await tab.goto(`${ctx.app.url}${ctx.passes.tokenise("/reference", visitor)}`);
      if (options.confirm) {
        await Promise.all([tab.waitForURL(/\/reference$/), tab.click("form button")]);
      }
      expect(JSON.parse((await tab.textContent("pre")) ?? "")).toMatchObject({
        visitor: visitor.uuid,
      });
    }

    async function usesOf(visitor: Visitor): Promise<number | undefined> {
      return (await ctx.passes.get(visitor.uuid))?.uses;
    }

    it("an anonymous visitor stays anonymous, with no session cookie", async (test) => {
      skipWithoutBrowser(test);
      const mallory = await newPass(ctx.passes, { firstName: "Mallory" });
      const context = await browser!.newContext();
      try {
        const tab = await context.newPage();
        await attack(tab, mallory);
        expect(await appCookies(context)).not.toHaveProperty(ctx.app.sessionCookie);
        expect(await who(tab)).toEqual({ visitor: null, isVisitor: false });
        expect(await usesOf(mallory)).toBe(0);
      } finally {
        await context.close();
      }
    });

    it("Ginger holding her own pass stays Ginger", async (test) => {
      skipWithoutBrowser(test);
      const ginger = await newPass(ctx.passes, { firstName: "Ginger" });
      const mallory = await newPass(ctx.passes, { firstName: "Mallory" });
      const context = await browser!.newContext();
      try {
        const tab = await context.newPage();
        await land(tab, ginger);
        const before = await appCookies(context);
        await attack(tab, mallory);
        expect((await appCookies(context))[ctx.app.sessionCookie]).toBe(
          before[ctx.app.sessionCookie],
        );
        expect(await who(tab)).toEqual({ visitor: ginger.uuid, isVisitor: true });
        expect(await usesOf(mallory)).toBe(0);
      } finally {
        await context.close();
      }
    });

    it("Fred, signed in, stays signed in and no visitor", async (test) => {
      skipWithoutBrowser(test);
      const mallory = await newPass(ctx.passes, { firstName: "Mallory" });
      const context = await browser!.newContext();
      try {
        const tab = await context.newPage();
        await tab.goto(`${ctx.app.url}/public`);
        const signedIn = await tab.evaluate(async () => {
          const response = await fetch("/login", { method: "POST" });
          return response.status;
        });
        expect(signedIn).toBe(200);
        const before = await appCookies(context);
        await attack(tab, mallory);
        expect(await appCookies(context)).toEqual(before);
        expect(await who(tab)).toEqual({ visitor: null, isVisitor: false });
        expect(await usesOf(mallory)).toBe(0);
      } finally {
        await context.close();
      }
    });

    it("the link still admits its holder's own click (control)", async (test) => {
      skipWithoutBrowser(test);
      const ginger = await newPass(ctx.passes, { firstName: "Ginger" });
      const context = await browser!.newContext();
      try {
        const tab = await context.newPage();
        await land(tab, ginger);
        expect(await who(tab)).toEqual({ visitor: ginger.uuid, isVisitor: true });
        expect(await usesOf(ginger)).toBe(1);
      } finally {
        await context.close();
      }
    });
  });
});
