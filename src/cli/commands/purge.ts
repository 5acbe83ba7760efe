import { type Command, Option } from "commander";
import type { Cli } from "../context.js";
import { formatDate, json } from "../format.js";
import { option, parseDate, parseDuration } from "../parse.js";

interface PurgeCommandOptions {
  before?: Date;
  olderThan?: number;
  json?: boolean;
}

export function registerPurge(program: Command, cli: Cli): void {
  program
    .command("purge")
    .description("Delete passes whose link expired before a date (default: now), with their logs.")
    .addOption(
      new Option("--before <date>", "an ISO date or date and time, e.g. 2026-01-01")
        .argParser(option(parseDate))
        .conflicts("olderThan"),
    )
    .option(
      "--older-than <duration>",
      "passes that expired more than this long ago: 30s, 15m, 2h, 7d, 1w",
      option(parseDuration),
    )
    .option("--json", "print the result as JSON")
    .action((options: PurgeCommandOptions, command: Command) =>
      cli.withPasses(command, async (passes) => {
        const before =
          options.before ?? new Date(cli.now().getTime() - (options.olderThan ?? 0) * 1000);
        const { stderr } = cli.io;
        // A progress line on a terminal only, rewritten after each batch and erased at the end.
        let shown = false;
        const onProgress = stderr.isTTY
          ? (purged: number) => {
              stderr.write(`\rPurging expired visitor passes… ${purged} deleted`);
              shown = true;
            }
          : undefined;
        let purged: number;
        try {
          purged = await passes.purge({ before, ...(onProgress ? { onProgress } : {}) });
        } finally {
          if (shown) stderr.write("\r\u001b[2K");
        }
        cli.out(
          options.json
            ? json({ purged, before: before.toISOString() })
            : `Purged ${purged} visitor ${purged === 1 ? "pass" : "passes"} that expired before ${formatDate(before)}.`,
        );
      }),
    );
}
