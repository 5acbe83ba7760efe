import { relative } from "node:path";
import type { Reporter, TestCase, TestModule } from "vitest/node";

/**
 * Ends every run with one plain summary of what it skipped: per test file, how many tests and
 * under which suites (their names say the database or browser they need), beside the services
 * the global setup found missing. A run without PostgreSQL, MariaDB, Redis or Chromium then says
 * exactly which promises it did not check — the fail-closed suite included.
 */
export default class SkipSummary implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    let total = 0;
    for (const module of modules) {
      const suites = new Map<string, number>();
      for (const test of module.children.allTests()) {
        if (test.result().state !== "skipped") continue;
        if (test.options.mode === "todo") continue;
        const suite = topSuite(test);
        suites.set(suite, (suites.get(suite) ?? 0) + 1);
      }
      if (suites.size === 0) continue;
      const count = [...suites.values()].reduce((sum, n) => sum + n, 0);
      total += count;
      const where = [...suites].map(([suite, n]) => `${suite} (${n})`).join("; ");
      lines.push(`  ${relative(process.cwd(), module.moduleId)}: ${count} skipped: ${where}`);
    }
    if (total === 0) {
      console.log("\n[visitor-pass tests] Nothing was skipped.");
      return;
    }
    console.log(`\n[visitor-pass tests] Skipped ${total} tests in ${lines.length} files:`);
    for (const line of lines) console.log(line);
    const missing = process.env.VISITOR_PASS_SKIPPED_SERVICES;
    if (missing) console.log(`  Why: ${missing}.`);
  }
}

/** The name of the outermost suite holding `test` (it names the database or browser it needs). */
function topSuite(test: TestCase): string {
  let parent = test.parent;
  if (parent.type === "module") return "(top level)";
  while (parent.parent.type === "suite") parent = parent.parent;
  return parent.name;
}
