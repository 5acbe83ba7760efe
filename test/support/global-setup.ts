import { DATABASES } from "./databases.js";

/** Says plainly, before any test runs, which databases this run leaves out and why. */
export default function setup(): void {
  for (const database of DATABASES) {
    if (database.skipped) {
      console.warn(`[visitor-pass tests] SKIPPING ${database.name}: ${database.skipped}.`);
    }
  }
}
