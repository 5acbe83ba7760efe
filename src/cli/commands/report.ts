import type { Command } from "commander";
import { type SharingSignals, uncountedVisits } from "../../core/sharing.js";
import type { Cli } from "../context.js";
import { formatDate, json, table } from "../format.js";
import { option, parseDuration, parseInteger } from "../parse.js";

interface SharingOptions {
  scope?: string;
  since?: number;
  flagged?: boolean;
  limit?: number;
  offset?: number;
  json?: boolean;
}

function dateOf(value: Date | null): string {
  return value === null ? "-" : formatDate(value);
}

function sharingTable(rows: readonly SharingSignals[], maxWidth?: number): string {
  return table(
    [
      "uuid",
      "visits",
      "sessions",
      "networks",
      "browsers",
      "first visit",
      "last visit",
      "flagged",
      "email",
    ],
    rows.map((row) => [
      row.uuid,
      String(row.visits),
      String(row.sessions),
      String(row.networks),
      String(row.browsers),
      dateOf(row.firstVisit),
      dateOf(row.lastVisit),
      row.flagged ? `yes: ${row.reasons.join("; ")}` : "no",
      row.email,
    ]),
    { maxWidth },
  );
}

/**
 * What the counts above leave out, per pass: "<uuid>: 3 visits without a session (cookies
 * refused)"; empty when every visit counted.
 */
function uncountedNotes(rows: readonly SharingSignals[]): string {
  const lines = rows.flatMap((row) => {
    const notes = uncountedVisits(row);
    return notes.length ? [`  ${row.uuid}: ${notes.join("; ")}`] : [];
  });
  return lines.length
    ? `\nNot counted as sessions, networks or browsers:\n${lines.join("\n")}`
    : "";
}

export function registerReport(program: Command, cli: Cli): void {
  const report = program
    .command("report")
    .description("Reports on how passes are used.")
    .addHelpText("after", "\nExample:\n  $ visitor-pass report sharing --flagged --since 30d");

  report
    .command("sharing")
    .description(
      "Passes whose link looks shared: distinct sessions, networks (/24, /48) and browser families per pass, flagged past the thresholds.",
    )
    .option("--scope <scope>", "only passes for this scope")
    .option(
      "--since <duration>",
      "only visits in this last stretch, e.g. 30d",
      option(parseDuration),
    )
    .option("--flagged", "only passes flagged as shared")
    .option("--limit <n>", "at most this many passes (default 100)", option(parseInteger))
    .option("--offset <n>", "skip this many passes", option(parseInteger))
    .option("--json", "print the report as JSON")
    .action((options: SharingOptions, command: Command) =>
      cli.withPasses(command, async (passes) => {
        const rows = await passes.sharingReport({
          ...(options.scope === undefined ? {} : { scope: options.scope }),
          ...(options.since === undefined
            ? {}
            : { since: new Date(cli.now().getTime() - options.since * 1000) }),
          ...(options.flagged ? { flaggedOnly: true } : {}),
          ...(options.limit === undefined ? {} : { limit: options.limit }),
          ...(options.offset === undefined ? {} : { offset: options.offset }),
        });
        if (options.json) {
          cli.out(json(rows));
          return;
        }
        if (rows.length === 0) {
          cli.out("No visits to report.");
          return;
        }
        cli.out(sharingTable(rows, cli.width));
        const notes = uncountedNotes(rows);
        if (notes) cli.out(notes);
      }),
    );
}
