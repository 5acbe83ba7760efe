import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerCreate } from "./commands/create.js";
import { registerDeactivate } from "./commands/deactivate.js";
import { registerList } from "./commands/list.js";
import { registerLogs } from "./commands/logs.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerPromote } from "./commands/promote.js";
import { registerPurge } from "./commands/purge.js";
import { registerReactivate } from "./commands/reactivate.js";
import { registerReport } from "./commands/report.js";
import { registerShow } from "./commands/show.js";
import { registerTruncateLogs } from "./commands/truncate-logs.js";
import { Cli, type CliIo } from "./context.js";
import { EXIT_OK, EXIT_USAGE, oneLine } from "./errors.js";
import { printable } from "./format.js";

export type { CliIo, OutputStream } from "./context.js";

function packageVersion(): string {
  try {
    const url = new URL("../../package.json", import.meta.url);
    return (JSON.parse(readFileSync(url, "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * The `visitor-pass` program on `cli`'s streams. Commander reports its own usage errors (one line
 * on stderr) and, with `exitOverride`, throws instead of exiting: `runCli` turns that into exit 2.
 */
function createProgram(cli: Cli): Command {
  const program = new Command("visitor-pass")
    .description("Create and manage visitor passes.")
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for the command")
    .helpCommand("help [command]", "show help for a command")
    .option(
      "--database <url>",
      "sqlite:<file>, postgres://… or mysql://… (default: $VISITOR_PASS_DATABASE_URL, else sqlite:visitor-pass.sqlite3)",
    )
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      // Commander quotes the arguments it refuses: they are as unprintable as anything else.
      writeOut: (text) => cli.io.stdout.write(printable(text)),
      writeErr: (text) => cli.io.stderr.write(printable(text)),
      outputError: (text, write) => write(`${oneLine(text)}\n`),
    })
    .addHelpText(
      "after",
      `
Run \`visitor-pass migrate\` once on a new database before anything else.
Exit codes: 0 success, 1 not found or the database failed, 2 a usage error.

Examples:
  $ visitor-pass migrate --database sqlite:passes.sqlite3
  $ visitor-pass create --email ginger@x.org --scope REFERENCE_REQUEST --expires-in 7d \\
      --url https://app.example/reference
  $ visitor-pass list --scope REFERENCE_REQUEST --active --json
  $ visitor-pass purge --older-than 30d
  $ visitor-pass truncate-logs --older-than 90d --keep 20
  $ visitor-pass promote 2b1c8f3e-6a7d-4e2f-9c1b-3d5e7f9a0b1c --user 42`,
    );

  registerMigrate(program, cli);
  registerCreate(program, cli);
  registerList(program, cli);
  registerShow(program, cli);
  registerDeactivate(program, cli);
  registerReactivate(program, cli);
  registerPromote(program, cli);
  registerLogs(program, cli);
  registerPurge(program, cli);
  registerTruncateLogs(program, cli);
  registerReport(program, cli);
  return program;
}

/**
 * Runs the command line with `argv` (the arguments after the program name) and returns the exit
 * code. Never throws: every failure is one line on stderr.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const cli = new Cli(io);
  try {
    await createProgram(cli).parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; everything else commander rejects is a usage error.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    cli.fail(error);
  }
  return cli.exitCode;
}
