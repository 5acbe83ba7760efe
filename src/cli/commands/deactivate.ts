import type { Command } from "commander";
import type { Cli } from "../context.js";
import { json } from "../format.js";
import { notFound } from "./show.js";

export function registerDeactivate(program: Command, cli: Cli): void {
  program
    .command("deactivate")
    .description("Turn a pass off: its link and every session holding it stop working at once.")
    .argument("<uuid>", "the pass's uuid (its token)")
    .option("--json", "print the updated pass as JSON")
    .action((uuid: string, options: { json?: boolean }, command: Command) =>
      cli.withPasses(command, async (passes) => {
        const current = await passes.get(uuid);
        if (!current) throw notFound(uuid);
        if (!current.isActive) {
          cli.out(
            options.json
              ? json(current.serialize())
              : `Visitor pass ${current.uuid} is already inactive: nothing changed.`,
          );
          return;
        }
        const visitor = await passes.deactivate(uuid);
        if (!visitor) throw notFound(uuid);
        cli.out(
          options.json
            ? json(visitor.serialize())
            : `Deactivated visitor pass ${visitor.uuid}: its link and sessions no longer work.`,
        );
      }),
    );
}
