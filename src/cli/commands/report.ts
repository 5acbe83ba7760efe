import type { Command } from "commander";
import type { VisitorPass } from "../../core/visitor-pass.js";
import type { Cli } from "../context.js";
import { CliError } from "../errors.js";
import { formatDate, json, table } from "../format.js";

export const SHARING_UNAVAILABLE = "Sharing analytics are not available in this version.";

/**
 * One row of `passes.sharingReport()`, as this command expects it. The analytics are built
 * separately: until they land these names are provisional, and `sharingRows`/`sharingTable`
 * below are the one place to adjust.
 */
export interface SharingRow {
  uuid?: string;
  email?: string;
  scope?: string;
  distinctSessions?: number;
  networks?: number | readonly string[];
  browserFamilies?: number | readonly string[];
  firstVisit?: Date | string | null;
  lastVisit?: Date | string | null;
  flagged?: boolean;
}

type SharingReport = (options: Record<string, unknown>) => unknown;

function sharingReportOf(passes: VisitorPass): SharingReport | null {
  const report = (passes as unknown as { sharingReport?: unknown }).sharingReport;
  return typeof report === "function" ? (report.bind(passes) as SharingReport) : null;
}

/** The rows of a report: the result itself when it is an array, else its `rows`. */
function sharingRows(result: unknown): SharingRow[] {
  if (Array.isArray(result)) return result as SharingRow[];
  const rows = (result as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? (rows as SharingRow[]) : [];
}

function countOf(value: number | readonly string[] | undefined): string {
  if (value === undefined) return "-";
  return typeof value === "number" ? String(value) : String(value.length);
}

function dateOf(value: Date | string | null | undefined): string {
  if (value === null || value === undefined) return "-";
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : formatDate(date);
}

export function sharingTable(rows: readonly SharingRow[], maxWidth?: number): string {
  return table(
    ["uuid", "sessions", "networks", "browsers", "first visit", "last visit", "flagged", "email"],
    rows.map((row) => [
      row.uuid ?? "-",
      row.distinctSessions === undefined ? "-" : String(row.distinctSessions),
      countOf(row.networks),
      countOf(row.browserFamilies),
      dateOf(row.firstVisit),
      dateOf(row.lastVisit),
      row.flagged ? "yes" : "no",
      row.email ?? "-",
    ]),
    { maxWidth },
  );
}

export function registerReport(program: Command, cli: Cli): void {
  const report = program
    .command("report")
    .description("Reports on how passes are used.")
    .addHelpText("after", "\nExample:\n  $ visitor-pass report sharing --json");

  report
    .command("sharing")
    .description(
      "Passes whose link looks shared: distinct sessions, networks and browser families per pass.",
    )
    .option("--scope <scope>", "only passes for this scope")
    .option("--json", "print the report as JSON")
    .action((options: { scope?: string; json?: boolean }, command: Command) =>
      cli.withPasses(
        command,
        async (passes) => {
          const sharingReport = sharingReportOf(passes);
          if (!sharingReport) throw new CliError(SHARING_UNAVAILABLE);
          cli.requireTables(passes);
          const result = await sharingReport(
            options.scope === undefined ? {} : { scope: options.scope },
          );
          if (options.json) {
            cli.out(json(result));
            return;
          }
          const rows = sharingRows(result);
          cli.out(rows.length === 0 ? "No visits to report." : sharingTable(rows, cli.width));
        },
        { needsTables: false },
      ),
    );
}
