import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { type DatabaseTarget, redact } from "../core/config.js";
import type { VisitorPass, VisitorPassOptions } from "../create-visitor-pass.js";
import {
  CliError,
  describeFailure,
  EXIT_FAILURE,
  NOT_MIGRATED,
  scrub,
  secretsOf,
} from "./errors.js";
import { printable } from "./format.js";

/** Where the command line writes: `process.stdout`/`process.stderr`, or a test's capture. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Environment: `VISITOR_PASS_DATABASE_URL` and the other `VISITOR_*` settings. */
  env: Record<string, string | undefined>;
  /** The clock (for `--expires-in`, `--older-than` and relative times). @default () => new Date() */
  now?: () => Date;
  /** Makes the pass service; tests may hand in their own. @default createVisitorPass */
  createPasses?: (options: VisitorPassOptions) => VisitorPass;
}

interface GlobalOptions {
  database?: string;
}

/** The state of one run: its streams, its exit code, and the pass service it opens. */
export class Cli {
  readonly io: CliIo;
  exitCode = 0;
  #now: Date | undefined;

  constructor(io: CliIo) {
    this.io = io;
  }

  /**
   * The time of this run, read once: `--expires-in 7d` then means exactly 7 days after the
   * pass's `createdAt`, and every relative time printed agrees.
   */
  now(): Date {
    this.#now ??= this.io.now?.() ?? new Date();
    return this.#now;
  }

  /** Prints `text` as lines on stdout, unprintable characters blanked (see `printable`). */
  out(text: string): void {
    const safe = printable(text);
    this.io.stdout.write(safe.endsWith("\n") ? safe : `${safe}\n`);
  }

  /** The width to fit tables in: the terminal's, or none when stdout is a pipe or a file. */
  get width(): number | undefined {
    const { isTTY, columns } = this.io.stdout;
    return isTTY && columns ? columns : undefined;
  }

  /** Reports `error` as one line on stderr and sets the exit code; never a stack trace. */
  fail(error: unknown, secrets: readonly string[] = []): void {
    const { message, exitCode } = describeFailure(error, secrets);
    this.io.stderr.write(`${printable(message)}\n`);
    if (this.io.env.VISITOR_PASS_DEBUG && error instanceof Error && !(error instanceof CliError)) {
      this.io.stderr.write(`${printable(scrubStack(error, secrets))}\n`);
    }
    this.exitCode = exitCode;
  }

  /**
   * Runs `action` with a pass service for the `--database` of `command`, reporting any error,
   * and always closes the service. With `needsTables` (the default) a SQLite file that does not
   * exist is reported as not migrated rather than created empty.
   */
  async withPasses(
    command: Command,
    action: (passes: VisitorPass) => Promise<void>,
    { needsTables = true }: { needsTables?: boolean } = {},
  ): Promise<void> {
    const { database } = command.optsWithGlobals<GlobalOptions>();
    const secrets = secretsOf(database ?? this.io.env.VISITOR_PASS_DATABASE_URL);
    let passes: VisitorPass | undefined;
    try {
      // Loaded on first use, so that --help and usage errors answer at once.
      const create =
        this.io.createPasses ?? (await import("../create-visitor-pass.js")).createVisitorPass;
      passes = create({
        ...(database === undefined ? {} : { database }),
        env: this.io.env,
        now: () => this.now(),
      });
      if (needsTables) this.requireTables(passes);
      await action(passes);
    } catch (error) {
      this.fail(error, secrets);
    } finally {
      if (passes) {
        try {
          await passes.close();
        } catch (error) {
          if (this.exitCode === 0) this.fail(error, secrets);
        }
      }
    }
  }

  /**
   * Says "run migrate first" for a SQLite file that does not exist, before opening creates it;
   * and, when its directory is missing too, says that plainly: a mistyped path is likelier than
   * a database never migrated.
   */
  requireTables(passes: VisitorPass): void {
    const directory = sqliteDirectory(passes);
    if (directory === null) return;
    if (!existsSync(directory)) {
      throw new CliError(
        `The directory ${directory} of the SQLite database does not exist: check --database, or run \`visitor-pass migrate\` to create it and the tables.`,
        EXIT_FAILURE,
      );
    }
    const target = passes.config.database;
    if (target.kind === "sqlite" && !existsSync(target.filename)) {
      throw new CliError(NOT_MIGRATED, EXIT_FAILURE);
    }
  }
}

/** The directory of the SQLite database file, or `null` for any other database. */
function sqliteDirectory(passes: VisitorPass): string | null {
  const target = passes.config.database;
  if (target.kind !== "sqlite" || target.filename === ":memory:") return null;
  return dirname(resolve(target.filename));
}

/** Creates the SQLite database file's directory if need be, as `migrate` creates the file. */
export function makeSqliteDirectory(passes: VisitorPass): void {
  const directory = sqliteDirectory(passes);
  if (directory === null) return;
  try {
    mkdirSync(directory, { recursive: true });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CliError(
      `Cannot create the directory ${directory} of the SQLite database (${reason}): check --database.`,
      EXIT_FAILURE,
    );
  }
}

/** The database, fit to print: a SQLite file, or a server URL with its password hidden. */
export function describeDatabase(target: DatabaseTarget): string {
  switch (target.kind) {
    case "sqlite":
      return `sqlite:${target.filename}`;
    case "postgres":
    case "mysql":
      return redact(target.url);
    case "kysely":
      return "the application's database";
    case "store":
      return "the application's store";
  }
}

function scrubStack(error: Error, secrets: readonly string[]): string {
  return scrub(error.stack ?? error.message, secrets);
}
