import {
  InvalidVisitorPass,
  MalformedVisitorToken,
  VisitorPassConfigError,
  VisitorPassValidationError,
} from "../core/errors.js";

/** Exit codes: 0 success, 1 not found or an operational failure, 2 a usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const NOT_MIGRATED =
  "The database has no visitor-pass tables; run `visitor-pass migrate` first.";

/** An error the command line reports as it is: one line, no stack, with its exit code. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** A mistake in how the command was called (exit 2): a past `--expires-at`, a shortening reactivation. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = "UsageError";
  }
}

export interface Failure {
  /** One line, safe to print: no stack, no password. */
  message: string;
  exitCode: number;
}

/**
 * What to tell the user about `error`, and the exit code. `secrets` are strings (such as the
 * password of the database URL) that must never reach the terminal.
 */
export function describeFailure(error: unknown, secrets: readonly string[] = []): Failure {
  const failure = classify(error);
  return { ...failure, message: scrub(failure.message, secrets) };
}

function classify(error: unknown): Failure {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof VisitorPassValidationError) {
    return { message: validationMessage(error.fieldErrors), exitCode: EXIT_USAGE };
  }
  if (error instanceof VisitorPassConfigError || error instanceof MalformedVisitorToken) {
    return { message: error.message, exitCode: EXIT_USAGE };
  }
  if (error instanceof InvalidVisitorPass)
    return { message: error.message, exitCode: EXIT_FAILURE };
  if (isMissingTable(error)) return { message: NOT_MIGRATED, exitCode: EXIT_FAILURE };
  const unreachable = unreachableReason(error);
  if (unreachable !== null) {
    return { message: `Cannot reach the database: ${unreachable}`, exitCode: EXIT_FAILURE };
  }
  return { message: messageOf(error) || "Unexpected error.", exitCode: EXIT_FAILURE };
}

/** `--email: Enter a valid email address.; --scope: Scope is required.` as one line. */
export function validationMessage(fieldErrors: Record<string, string[]>): string {
  const parts = Object.entries(fieldErrors).map(([field, messages]) => {
    const name =
      field === "_" ? "input" : `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    return `${name}: ${messages.join(" ")}`;
  });
  return `Invalid input: ${parts.join("; ")}`;
}

interface DriverError {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/** The error and what it wraps (`cause`, `AggregateError#errors`), breadth first. */
function chain(error: unknown): DriverError[] {
  const seen: DriverError[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.length < 20) {
    const next = queue.shift();
    if (typeof next !== "object" || next === null || seen.includes(next as DriverError)) continue;
    const item = next as DriverError;
    seen.push(item);
    if (Array.isArray(item.errors)) queue.push(...item.errors);
    if (item.cause !== undefined) queue.push(item.cause);
  }
  return seen;
}

/**
 * A query hit a table that does not exist: SQLite "no such table", PostgreSQL 42P01
 * (undefined_table), MySQL/MariaDB ER_NO_SUCH_TABLE (1146).
 */
export function isMissingTable(error: unknown): boolean {
  return chain(error).some(
    (e) =>
      e.code === "42P01" ||
      e.code === "ER_NO_SUCH_TABLE" ||
      e.errno === 1146 ||
      (typeof e.message === "string" && /^no such table\b/i.test(e.message)),
  );
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  // MySQL/MariaDB: refused login, unknown database, host not allowed, too many connections.
  "ER_ACCESS_DENIED_ERROR",
  "ER_DBACCESS_DENIED_ERROR",
  "ER_BAD_DB_ERROR",
  "ER_HOST_NOT_PRIVILEGED",
  "ER_HOST_IS_BLOCKED",
  "ER_CON_COUNT_ERROR",
  "HANDSHAKE_SSL_ERROR",
  // PostgreSQL: refused login (28xxx), unknown database, server starting or full.
  "28P01",
  "28000",
  "3D000",
  "57P03",
  "53300",
  // SQLite: the file cannot be opened or is not a database.
  "SQLITE_CANTOPEN",
  "SQLITE_NOTADB",
  "SQLITE_PERM",
  "SQLITE_READONLY",
]);

const NETWORK_MESSAGES = [
  /connection terminated/i,
  /timeout expired/i,
  /connect(ion)? timed? ?out/i,
  /cannot open database/i,
  /unable to open database/i,
  /the server does not support ssl/i,
];

/** Why the database could not be reached, or `null` when `error` is about something else. */
export function unreachableReason(error: unknown): string | null {
  const errors = chain(error);
  const hit = errors.find(
    (e) =>
      (typeof e.code === "string" && NETWORK_CODES.has(e.code)) ||
      (typeof e.message === "string" &&
        NETWORK_MESSAGES.some((re) => re.test(e.message as string))),
  );
  if (!hit) return null;
  // An AggregateError (several addresses tried) often has an empty message of its own.
  const reason =
    messageOf(hit) ||
    errors.map(messageOf).find((m) => m !== "") ||
    (typeof hit.code === "string" ? hit.code : "");
  return reason || "unknown error";
}

function messageOf(error: unknown): string {
  const message =
    typeof error === "object" && error !== null && "message" in error
      ? String((error as { message: unknown }).message)
      : typeof error === "string"
        ? error
        : "";
  return oneLine(message);
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** Hides secrets and the password of any URL in `text`. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi, "$1:***@");
  for (const secret of secrets) {
    // Drivers do not echo passwords outside URLs; a very short one would only mangle the text.
    if (secret.length >= 4) out = out.split(secret).join("***");
  }
  return out;
}

/** The password of a database URL (raw and decoded), so that messages can be scrubbed of it. */
export function secretsOf(database: unknown): string[] {
  if (typeof database !== "string") return [];
  try {
    const { password } = new URL(database.trim());
    if (!password) return [];
    const decoded = safeDecode(password);
    return decoded === password ? [password] : [password, decoded];
  } catch {
    // Not a URL: anything between "://user:" and "@" is still a password.
    const match = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@/\s]+)@/i.exec(database.trim());
    return match?.[1] ? [match[1]] : [];
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
