import { existsSync } from "node:fs";
import { DATABASES } from "./databases.js";

/**
 * Says plainly, before any test runs, which services this run leaves out and why; the reporter in
 * `skip-summary.ts` repeats it at the end beside the tests that were skipped for it.
 */
export default function setup(): void {
  const missing: string[] = [];
  for (const database of DATABASES) {
    if (database.skipped) missing.push(`${database.name}: ${database.skipped}`);
  }
  if (!process.env.VISITOR_PASS_TEST_REDIS_URL?.trim()) {
    missing.push("redis (scale-out, session-store recipe): VISITOR_PASS_TEST_REDIS_URL is not set");
  }
  const chromium = process.env.VISITOR_PASS_CHROMIUM || "/usr/bin/chromium";
  if (!existsSync(chromium)) missing.push(`browser tests: ${chromium} is missing`);
  for (const line of missing) console.warn(`[visitor-pass tests] SKIPPING ${line}.`);
  // The reporter runs in this process too: it reads why from here.
  process.env.VISITOR_PASS_SKIPPED_SERVICES = missing.join("; ");
}
