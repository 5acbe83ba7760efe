import { type Command, Option } from "commander";
import type { ListVisitorsInput } from "../../core/validation.js";
import type { Cli } from "../context.js";
import { json, visitorTable } from "../format.js";
import { option, parseInteger } from "../parse.js";

interface ListOptions {
  scope?: string;
  active?: boolean;
  inactive?: boolean;
  search?: string;
  limit?: number;
  offset?: number;
  json?: boolean;
}

export function registerList(program: Command, cli: Cli): void {
  program
    .command("list")
    .description("List visitor passes, newest first.")
    .option("--scope <scope>", "only passes for this scope")
    .addOption(new Option("--active", "only active passes").conflicts("inactive"))
    .option("--inactive", "only inactive passes")
    .option("--search <text>", "only passes whose names, email or scope contain this text")
    .option(
      "--limit <n>",
      "at most this many passes, 1 to 1000 (default: 100)",
      option(parseInteger),
    )
    .option("--offset <n>", "skip this many passes first (default: 0)", option(parseInteger))
    .option("--json", "print the passes as a JSON array")
    .action((options: ListOptions, command: Command) =>
      cli.withPasses(command, async (passes) => {
        const filter: ListVisitorsInput = {};
        if (options.scope !== undefined) filter.scope = options.scope;
        if (options.active) filter.active = true;
        if (options.inactive) filter.active = false;
        if (options.search !== undefined) filter.search = options.search;
        if (options.limit !== undefined) filter.limit = options.limit;
        if (options.offset !== undefined) filter.offset = options.offset;

        const visitors = await passes.list(filter);
        if (options.json) {
          cli.out(json(visitors.map((visitor) => visitor.serialize())));
          return;
        }
        if (visitors.length === 0) {
          cli.out("No visitor passes.");
          return;
        }
        cli.out(visitorTable(visitors, { maxWidth: cli.width }));
        const limit = options.limit ?? 100;
        if (visitors.length === limit) {
          const next = (options.offset ?? 0) + limit;
          cli.out(`(${limit} shown; there may be more: --offset ${next})`);
        }
      }),
    );
}
