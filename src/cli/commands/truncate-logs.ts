import { type Command, Option } from "commander";
import type { Cli } from "../context.js";
import { UsageError } from "../errors.js";
import { formatDate, json } from "../format.js";
import { option, parseDate, parseDuration, parseInteger } from "../parse.js";

interface TruncateLogsCommandOptions {
  before?: Date;
  olderThan?: number;
  keep?: number;
  json?: boolean;
}

export function registerTruncateLogs(program: Command, cli: Cli): void {
  program
    .command("truncate-logs")
    .description(
      "Delete visit logs, keeping the passes: those before a date, those beyond the newest <n> of each pass, or with both, those that are both.",
    )
    .addOption(
      new Option("--before <date>", "logs before an ISO date or date and time, e.g. 2026-01-01")
        .argParser(option(parseDate))
        .conflicts("olderThan"),
    )
    .option(
      "--older-than <duration>",
      "logs older than this: 30s, 15m, 2h, 7d, 1w",
      option(parseDuration),
    )
    .option(
      "--keep <n>",
      "keep the newest <n> logs of each pass (0 keeps none)",
      option(parseInteger),
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `
Give --before (or --older-than), --keep, or both.

Examples:
  $ visitor-pass truncate-logs --older-than 90d
  $ visitor-pass truncate-logs --keep 100
  $ visitor-pass truncate-logs --before 2026-01-01 --keep 10`,
    )
    .action((options: TruncateLogsCommandOptions, command: Command) =>
      cli.withPasses(command, async (passes) => {
        if (
          options.before === undefined &&
          options.olderThan === undefined &&
          options.keep === undefined
        ) {
          throw new UsageError(
            "Give --before (or --older-than), --keep, or both: truncate-logs never deletes every log unasked.",
          );
        }
        const before =
          options.before ??
          (options.olderThan === undefined
            ? undefined
            : new Date(cli.now().getTime() - options.olderThan * 1000));
        const { stderr } = cli.io;
        // A progress line on a terminal only, rewritten after each batch and erased at the end.
        let shown = false;
        const onProgress = stderr.isTTY
          ? (deleted: number) => {
              stderr.write(`\rDeleting visit logs… ${deleted} deleted`);
              shown = true;
            }
          : undefined;
        let deleted: number;
        try {
          deleted = await passes.truncateLogs({
            ...(before ? { before } : {}),
            ...(options.keep !== undefined ? { keep: options.keep } : {}),
            ...(onProgress ? { onProgress } : {}),
          });
        } finally {
          if (shown) stderr.write("\r\u001b[2K");
        }
        cli.out(
          options.json
            ? json({
                deleted,
                before: before?.toISOString() ?? null,
                keep: options.keep ?? null,
              })
            : `Deleted ${deleted} visit ${deleted === 1 ? "log" : "logs"}${describe(before, options.keep)}.`,
        );
      }),
    );
}

function describe(before: Date | undefined, keep: number | undefined): string {
  const parts: string[] = [];
  if (before) parts.push(`from before ${formatDate(before)}`);
  if (keep !== undefined) parts.push(`beyond the newest ${keep} of each pass`);
  return parts.length > 0 ? ` ${parts.join(" and ")}` : "";
}
