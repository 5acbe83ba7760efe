import { type Command, Option } from "commander";
import type { CreateVisitorInput } from "../../core/validation.js";
import type { Cli } from "../context.js";
import { UsageError } from "../errors.js";
import { details, formatDate, json, relative } from "../format.js";
import {
  option,
  parseDate,
  parseDuration,
  parseInteger,
  parseJson,
  parseSessionExpiry,
} from "../parse.js";

const APP_POLICY = "null";

interface CreateOptions {
  email: string;
  scope: string;
  firstName?: string;
  lastName?: string;
  context?: unknown;
  expiresIn?: number;
  expiresAt?: Date;
  neverExpires?: boolean;
  allowPast?: boolean;
  sessionExpiry?: number | typeof APP_POLICY;
  maxUses?: number;
  url?: string;
  json?: boolean;
}

function positiveDuration(text: string): number {
  const seconds = parseDuration(text);
  if (seconds <= 0) throw new Error("The duration must be more than 0.");
  return seconds;
}

export function registerCreate(program: Command, cli: Cli): void {
  program
    .command("create")
    .description("Create a visitor pass and print its uuid (and its link, with --url).")
    .requiredOption("--email <address>", "the visitor's email address")
    .requiredOption("--scope <scope>", "what the pass admits to, e.g. REFERENCE_REQUEST")
    .option("--first-name <name>", "the visitor's first name")
    .option("--last-name <name>", "the visitor's last name")
    .option(
      "--context <json>",
      'a JSON object kept with the pass, e.g. \'{"requestedBy":"fred"}\'',
      option(parseJson),
    )
    .addOption(
      new Option(
        "--expires-in <duration>",
        "the link stops working after this long: 30s, 15m, 2h, 7d, 1w (default: $VISITOR_TOKEN_EXPIRY seconds, else 300)",
      )
        .argParser(option(positiveDuration))
        .conflicts(["expiresAt", "neverExpires"]),
    )
    .addOption(
      new Option("--expires-at <date>", "the link stops working at this ISO date or date and time")
        .argParser(option(parseDate))
        .conflicts("neverExpires"),
    )
    .option("--never-expires", "the link works until the pass is deactivated")
    .option("--allow-past", "accept an --expires-at in the past (the pass is created expired)")
    .option(
      "--session-expiry <seconds>",
      "how long the visitor's session lasts: seconds or a duration (2h); 0 until the browser closes; null for the app's own policy (default: $VISITOR_SESSION_EXPIRY, else 0)",
      // Commander turns a parsed `null` into "", so `null` travels as APP_POLICY until the action.
      option((text) => parseSessionExpiry(text) ?? APP_POLICY),
    )
    .option(
      "--max-uses <n>",
      "how many times the link can admit (default: no limit)",
      option(parseInteger),
    )
    .option("--url <url>", "print the link: this URL carrying the pass token")
    .option("--json", "print the pass as JSON (with `link` when --url is given)")
    .addHelpText(
      "after",
      `
Example:
  $ visitor-pass create --email ginger@x.org --scope REFERENCE_REQUEST \\
      --first-name Ginger --last-name Rogers --context '{"requestedBy":"fred"}' \\
      --expires-in 7d --max-uses 3 --url https://app.example/reference`,
    )
    .action((options: CreateOptions, command: Command) =>
      cli.withPasses(command, async (passes) => {
        const input: CreateVisitorInput = { email: options.email, scope: options.scope };
        if (options.firstName !== undefined) input.firstName = options.firstName;
        if (options.lastName !== undefined) input.lastName = options.lastName;
        if (options.context !== undefined) input.context = options.context as never;
        if (options.expiresIn !== undefined) {
          input.expiresAt = new Date(cli.now().getTime() + options.expiresIn * 1000);
        }
        if (options.expiresAt !== undefined) {
          // A link that never worked is almost always a typo in the date, not an intent.
          if (!options.allowPast && options.expiresAt.getTime() <= cli.now().getTime()) {
            throw new UsageError(
              `--expires-at: ${formatDate(options.expiresAt)} is not in the future, so the link would never work. Give a later date, or add --allow-past to create it expired anyway.`,
            );
          }
          input.expiresAt = options.expiresAt;
        }
        if (options.neverExpires) input.expiresAt = null;
        if (options.sessionExpiry !== undefined) {
          input.sessionExpiry = options.sessionExpiry === APP_POLICY ? null : options.sessionExpiry;
        }
        if (options.maxUses !== undefined) input.maxUses = options.maxUses;

        const visitor = await passes.create(input);
        const link = options.url === undefined ? undefined : passes.tokenise(options.url, visitor);
        if (options.json) {
          cli.out(
            json(link === undefined ? visitor.serialize() : { ...visitor.serialize(), link }),
          );
          return;
        }
        const who = visitor.fullName ? `${visitor.fullName} <${visitor.email}>` : visitor.email;
        const pairs: [string, string][] = [
          ["uuid", visitor.uuid],
          ["scope", visitor.scope],
          [
            "expires",
            visitor.expiresAt === null
              ? "never"
              : `${formatDate(visitor.expiresAt)} (${relative(visitor.expiresAt, cli.now())})`,
          ],
          ["uses", visitor.maxUses === null ? "no limit" : `up to ${visitor.maxUses}`],
        ];
        if (link !== undefined) pairs.push(["link", link]);
        cli.out(`Created a visitor pass for ${who}.\n${details(pairs)}`);
      }),
    );
}
