import type { Command } from "commander";
import type { Cli } from "../context.js";
import { json, logTable } from "../format.js";
import { notFound } from "./show.js";

export function registerLogs(program: Command, cli: Cli): void {
  program
    .command("logs")
    .description("List the visits made with a pass, newest first.")
    .argument("<uuid>", "the pass's uuid (its token)")
    .option("--json", "print the visits as a JSON array")
    .action((uuid: string, options: { json?: boolean }, command: Command) =>
      cli.withPasses(command, async (passes) => {
        const visitor = await passes.get(uuid);
        if (!visitor) throw notFound(uuid);
        const logs = await passes.logs(visitor.uuid);
        if (options.json) cli.out(json(logs));
        else if (logs.length === 0) cli.out(`No visits logged for ${visitor.uuid}.`);
        else cli.out(logTable(logs, { maxWidth: cli.width }));
      }),
    );
}
