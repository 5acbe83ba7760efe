import type { Command } from "commander";
import { reactivationShortens } from "../../core/reactivation.js";
import type { Cli } from "../context.js";
import { UsageError } from "../errors.js";
import { formatDate, json, relative } from "../format.js";
import { notFound } from "./show.js";

export function registerReactivate(program: Command, cli: Cli): void {
  program
    .command("reactivate")
    .description(
      "Turn a pass back on; its link works for another $VISITOR_TOKEN_EXPIRY seconds (default 300).",
    )
    .argument("<uuid>", "the pass's uuid (its token)")
    .option("--url <url>", "also print the link: this URL carrying the pass token")
    .option("--json", "print the updated pass as JSON (with `link` when --url is given)")
    .option("--force", "reactivate an active pass even though that shortens its expiry")
    .action(
      (
        uuid: string,
        options: { url?: string; json?: boolean; force?: boolean },
        command: Command,
      ) =>
        cli.withPasses(command, async (passes) => {
          if (!options.force) {
            const current = await passes.get(uuid);
            if (!current) throw notFound(uuid);
            const cut = reactivationShortens(current, passes.config.tokenExpiry, cli.now());
            if (cut) {
              const at = (date: Date | null) =>
                date === null
                  ? "never expires"
                  : `works until ${formatDate(date)} (${relative(date, cli.now())})`;
              throw new UsageError(
                `Visitor pass ${current.uuid} is active and its link ${at(cut.from)}; reactivating would shorten that to ${formatDate(cut.to)} (${relative(cut.to, cli.now())}). Nothing changed; add --force to do it anyway.`,
              );
            }
          }
          const visitor = await passes.reactivate(uuid);
          if (!visitor) throw notFound(uuid);
          const link =
            options.url === undefined ? undefined : passes.tokenise(options.url, visitor);
          if (options.json) {
            cli.out(
              json(link === undefined ? visitor.serialize() : { ...visitor.serialize(), link }),
            );
            return;
          }
          const until =
            visitor.expiresAt === null
              ? "with no expiry"
              : `until ${formatDate(visitor.expiresAt)} (${relative(visitor.expiresAt, cli.now())})`;
          cli.out(`Reactivated visitor pass ${visitor.uuid}: its link works ${until}.`);
          if (link !== undefined) cli.out(link);
        }),
    );
}
