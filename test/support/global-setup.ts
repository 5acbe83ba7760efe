import { DATABASES } from "./databases.js";

/** Says plainly, before any test runs, which services this run leaves out and why. */
export default function setup(): void {
  for (const database of DATABASES) {
    if (database.skipped) {
      console.warn(`[visitor-pass tests] SKIPPING ${database.name}: ${database.skipped}.`);
    }
  }
  if (!process.env.VISITOR_PASS_TEST_REDIS_URL?.trim()) {
    console.warn(
      "[visitor-pass tests] SKIPPING redis (scale-out): VISITOR_PASS_TEST_REDIS_URL is not set.",
    );
  }
}
