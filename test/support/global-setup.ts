import { existsSync } from "node:fs";
import { DATABASES } from "./databases.js";

/** Test paths that start the Next.js fixture app (the behaviour suites run against every harness). */
const NEXT_USERS = ["test/behaviour", "test/security", "test/next"];

/**
 * Builds the Next.js fixture app once, before the test files start, for a run that may start it:
 * the whole suite, or files under a folder that does. Its build is cached by the hash of its
 * sources; a run that did not build it here builds it on first use.
 */
async function buildNextFixture(): Promise<void> {
  const filters = process.argv.slice(2).filter((arg) => !arg.startsWith("-") && arg !== "run");
  const needed =
    filters.length === 0 ||
    filters.some((filter) => filter === "test" || filter === "test/") ||
    filters.some((filter) => NEXT_USERS.some((path) => filter.startsWith(path)));
  if (!needed) return;
  const { buildFixture } = await import("../next/build.js");
  const { seconds } = await buildFixture();
  if (seconds !== null) {
    console.warn(`[visitor-pass tests] built the Next.js fixture app in ${seconds.toFixed(1)} s.`);
  }
}

/**
 * Says plainly, before any test runs, which services this run leaves out and why; the reporter in
 * `skip-summary.ts` repeats it at the end beside the tests that were skipped for it.
 */
export default async function setup(): Promise<void> {
  await buildNextFixture();
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
