import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VisitorPass } from "../../src/index.js";
import {
  browserAvailable as available,
  launchChromium,
  screenshot,
  skipWithoutBrowser,
  warnIfSkipping,
} from "../support/chromium.js";
import {
  ADMIN_HEADER,
  ADMIN_SECRET,
  FRAMEWORKS,
  MOUNT,
  openPasses,
  type RunningServer,
  type Seed,
  seed,
} from "./support.js";

/**
 * The admin pages in a real browser (Debian's Chromium, driven by playwright-core): search, open a
 * pass, deactivate it with a click, reactivate in bulk, and screenshots of each page into
 * artifacts/screenshots/. Skipped when Chromium is missing, unless VISITOR_PASS_REQUIRE_BROWSER=1
 * (CI installs it with .ci/browser.sh).
 */
warnIfSkipping("the admin browser test");

describe("admin pages in a browser", () => {
  let passes: VisitorPass;
  let data: Seed;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!available) return;
    passes = await openPasses();
    data = await seed(passes);
    server = await FRAMEWORKS.find((f) => f.name === "express")!.start(passes);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await passes?.close();
  });

  /** A page in a fresh context that `authorize` lets in; page errors (CSP included) are kept. */
  async function open(viewport: { width: number; height: number }, isMobile = false) {
    const context = await browser!.newContext({
      viewport,
      isMobile,
      extraHTTPHeaders: { [ADMIN_HEADER]: ADMIN_SECRET },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    page.on("pageerror", (error) => errors.push(error.message));
    return { page, errors, close: () => context.close() };
  }

  const shot = (page: Page, name: string) => screenshot(page, name);

  it("searches, opens a pass, deactivates it, reactivates in bulk, with screenshots", async (context) => {
    skipWithoutBrowser(context);
    const base = `${server!.url}${MOUNT}`;
    const { page, errors, close } = await open({ width: 1280, height: 900 });
    try {
      await page.goto(`${base}/`);
      expect(await page.locator("table.passes tbody tr").count()).toBe(25);
      expect(await page.locator("svg[role=img] rect.bar").count()).toBe(30);
      await shot(page, "admin-list");

      // Search by name, then open the pass from its row.
      await page.fill('input[type="search"][name="q"]', "rogers");
      await Promise.all([page.waitForURL(/[?&]q=rogers/), page.click("form.filters button")]);
      const rows = page.locator("table.passes tbody tr");
      expect(await rows.count()).toBe(1);
      await Promise.all([
        page.waitForURL(`${base}/passes/${data.shared.id}`),
        rows.first().getByRole("link", { name: data.shared.email }).click(),
      ]);
      expect(await page.locator("h1").textContent()).toContain("Ginger Rogers");
      expect(await page.locator("pre").textContent()).toContain('"reference": "Fred"');
      // The link stays folded away until asked for, and no URL of the page carries the token.
      const link = page.getByRole("textbox", { name: "Link to send" });
      expect(await link.isVisible()).toBe(false);
      await page.getByText("Show link", { exact: true }).click();
      expect(await link.isVisible()).toBe(true);
      expect(await link.inputValue()).toContain(`vuid=${data.shared.uuid}`);
      const urls = await page.evaluate(() =>
        Array.from(document.querySelectorAll("[href], [action], [src]")).map(
          (el) => el.getAttribute("href") ?? el.getAttribute("action") ?? el.getAttribute("src"),
        ),
      );
      expect(urls.filter((url) => url?.includes(data.shared.uuid))).toEqual([]);
      expect(page.url()).not.toContain(data.shared.uuid);
      await shot(page, "admin-pass");

      // Deactivate with a real click: a same-origin POST, then 303 back to the page.
      await Promise.all([
        page.waitForURL(/\?done=deactivated$/),
        page.getByRole("button", { name: "Deactivate", exact: true }).click(),
      ]);
      expect(await page.getByRole("status").textContent()).toContain("Deactivated");
      expect(await page.locator("h1").textContent()).toContain("Inactive");
      expect((await passes.get(data.shared.uuid))?.isActive).toBe(false);

      // Bulk-reactivate every inactive pass from the filtered list.
      await page.goto(`${base}/?active=no`);
      const inactive = page.locator('table.passes input[name="id"]');
      expect(await inactive.count()).toBe(2);
      for (const box of await inactive.all()) await box.check();
      await Promise.all([
        page.waitForURL(/done=reactivated/),
        page.getByRole("button", { name: "Reactivate selected" }).click(),
      ]);
      expect(page.url()).toContain("active=no");
      expect(await page.getByRole("status").textContent()).toContain("Reactivated 2 passes.");
      expect((await passes.get(data.shared.uuid))?.isActive).toBe(true);
      expect((await passes.get(data.inactive.uuid))?.isActive).toBe(true);

      await page.goto(`${base}/sharing`);
      expect(await page.locator("table.sharing tbody tr").first().textContent()).toContain(
        data.shared.email,
      );
      await shot(page, "admin-sharing");

      // The visit-log list, from the navigation, then filtered with its form.
      await Promise.all([
        page.waitForURL(/\/logs$/),
        page
          .getByRole("navigation", { name: "Sections" })
          .getByRole("link", { name: "Visit logs" })
          .click(),
      ]);
      expect(await page.locator("table.logs tbody tr").count()).toBeGreaterThan(0);
      await page.getByLabel("Pass").fill(data.shared.email);
      await page.getByLabel("Status").fill("200");
      await Promise.all([
        page.waitForURL(/status=200/),
        page.getByRole("button", { name: "Filter" }).click(),
      ]);
      const emails = await page.locator("table.logs tbody td.email").allTextContents();
      expect(emails.length).toBeGreaterThan(0);
      expect(new Set(emails)).toEqual(new Set([data.shared.email]));
      await shot(page, "admin-logs");
      expect(errors).toEqual([]);
    } finally {
      await close();
    }

    const mobile = await open({ width: 390, height: 844 }, true);
    try {
      await mobile.page.goto(`${base}/`);
      const width = await mobile.page.evaluate(() => document.documentElement.scrollWidth);
      expect(width).toBeLessThanOrEqual(390);
      await shot(mobile.page, "admin-list-mobile");
      expect(mobile.errors).toEqual([]);
    } finally {
      await mobile.close();
    }
  }, 60_000);
});
