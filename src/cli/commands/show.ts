import type { Command } from "commander";
import type { Cli } from "../context.js";
import { CliError } from "../errors.js";
import { json, visitorDetails } from "../format.js";

export function notFound(uuid: string): CliError {
  return new CliError(`No visitor pass ${uuid}.`);
}

export function registerShow(program: Command, cli: Cli): void {
  program
    .command("show")
    .description("Show every field of a visitor pass, its context pretty-printed.")
    .argument("<uuid>", "the pass's uuid (its token)")
    .option("--url <url>", "also print the link: this URL carrying the pass token")
    .option("--json", "print the pass as JSON")
    .action((uuid: string, options: { url?: string; json?: boolean }, command: Command) =>
      cli.withPasses(command, async (passes) => {
        const visitor = await passes.get(uuid);
        if (!visitor) throw notFound(uuid);
        const link = options.url === undefined ? undefined : passes.tokenise(options.url, visitor);
        if (options.json) {
          cli.out(
            json(link === undefined ? visitor.serialize() : { ...visitor.serialize(), link }),
          );
        } else {
          cli.out(visitorDetails(visitor, cli.now(), link));
        }
      }),
    );
}
