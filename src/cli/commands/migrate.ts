import type { Command } from "commander";
import { type Cli, describeDatabase } from "../context.js";
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
          await passes.migrate();
          const database = describeDatabase(passes.config.database);
          cli.out(
            options.json
              ? json({ migrated: true, database })
              : `The visitor-pass tables in ${database} are up to date.`,
          );
        },
        { needsTables: false },
      ),
    );
}
