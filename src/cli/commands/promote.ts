import type { Command } from "commander";
import { VisitorPassValidationError } from "../../core/errors.js";
import type { Cli } from "../context.js";
import { UsageError } from "../errors.js";
import { formatDate, json } from "../format.js";
import { notFound } from "./show.js";

export function registerPromote(program: Command, cli: Cli): void {
  program
    .command("promote")
    .description(
      "Mark a pass as converted to the account <id>: its link and sessions stop working, its context and visits stay.",
    )
    .argument("<uuid>", "the pass's uuid (its token)")
    .requiredOption("--user <id>", "the user id of the new account (1–255 characters)")
    .option("--json", "print the updated pass as JSON")
    .action((uuid: string, options: { user: string; json?: boolean }, command: Command) =>
      cli.withPasses(command, async (passes) => {
        let visitor: Awaited<ReturnType<typeof passes.promote>>;
        try {
          visitor = await passes.promote(uuid, { userId: options.user });
        } catch (error) {
          if (error instanceof VisitorPassValidationError) {
            const messages = Object.values(error.fieldErrors).flat().join(" ");
            throw new UsageError(`Invalid input: --user: ${messages}`);
          }
          throw error;
        }
        if (!visitor) throw notFound(uuid);
        cli.out(
          options.json
            ? json(visitor.serialize())
            : `Promoted visitor pass ${visitor.uuid} to user ${visitor.promotedTo} on ${formatDate(visitor.promotedAt!)}: its link and sessions no longer work.`,
        );
      }),
    );
}
