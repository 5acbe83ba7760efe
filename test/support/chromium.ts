import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";

/**
 * Debian's Chromium, driven by playwright-core, for the browser tests. A test skips when Chromium
 * is missing, unless VISITOR_PASS_REQUIRE_BROWSER=1 (CI installs it with .ci/browser.sh): then it
 * fails.
 */
export const CHROMIUM = process.env.VISITOR_PASS_CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
export const SCREENSHOTS = fileURLToPath(new URL("../../artifacts/screenshots/", import.meta.url));
export const browserRequired = process.env.VISITOR_PASS_REQUIRE_BROWSER === "1";
export const browserAvailable = existsSync(CHROMIUM);
export const BROWSER_MISSING = `${CHROMIUM} is missing: install it with \`bash .ci/browser.sh\` (apt-get install chromium)`;

/** Says, once per test file, that `what` will be skipped for want of Chromium. */
export function warnIfSkipping(what: string): void {
  if (!browserAvailable && !browserRequired) {
    console.warn(`[visitor-pass tests] SKIPPING ${what}: ${BROWSER_MISSING}.`);
  }
}

/** At the start of a browser test: skip it, or fail it when the browser is required. */
export function skipWithoutBrowser(context: { skip(note?: string): void }): void {
  if (browserAvailable) return;
  if (browserRequired) throw new Error(`VISITOR_PASS_REQUIRE_BROWSER=1 but ${BROWSER_MISSING}.`);
  context.skip(BROWSER_MISSING);
}

/** Launches Chromium headless; makes sure the screenshot folder exists. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A full-page screenshot into artifacts/screenshots/<name>.png. */
export function screenshot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
}
