import type { Command } from "commander";
import { type Cli, describeDatabase, makeSqliteDirectory } from "../context.js";
import { isMissingTable } from "../errors.js";
import { json } from "../format.js";

export function registerMigrate(program: Command, cli: Cli): void {
  program
    .command("migrate")
    .description("Create or update the visitor-pass tables. Safe to run again; run it first.")
    .option("--json", "print the result as JSON")
    .action((options: { json?: boolean }, command: Command) =>
      cli.withPasses(
        command,
        async (passes) => {
          makeSqliteDirectory(passes);
          const existed = await hasTables(passes);
          const applied = await passes.migrate();
          const database = describeDatabase(passes.config.database);
          const migrations = `${applied} migration${applied === 1 ? "" : "s"}`;
          cli.out(
            options.json
              ? json({ migrated: true, database, created: applied > 0 && !existed, applied })
              : applied === 0
                ? `The visitor-pass tables in ${database} are up to date: nothing to do.`
                : existed
                  ? `Updated the visitor-pass tables in ${database} (${migrations}).`
                  : `Created the visitor-pass tables in ${database} (${migrations}).`,
          );
        },
        { needsTables: false },
      ),
    );
}

/** Whether the tables were there before this run: "created" and "updated" differ to the reader. */
async function hasTables(passes: { list(filter: { limit: number }): Promise<unknown> }) {
  try {
    await passes.list({ limit: 1 });
    return true;
  } catch (error) {
    if (isMissingTable(error)) return false;
    // An older schema that fails otherwise still has tables: migrate will update it.
    return true;
  }
}
