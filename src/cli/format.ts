import type { Visitor, VisitorLog } from "../core/visitor.js";

/**
 * Characters that must never reach a terminal as they are: C0 controls (ESC starts the sequences
 * that clear the screen or set the window title), DEL, C1 controls (0x9b is a one-byte CSI) and
 * the bidirectional controls that reorder what is shown.
 */
const UNPRINTABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point.
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` made safe for a terminal: each unprintable character (see above) becomes a space; line
 * feeds are kept. Every line the command line prints goes through it (`Cli.out`, `Cli.fail`,
 * tables and details alike): names, user agents and the like come from visitors.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, " ");
}

/**
 * JSON for scripts: two-space indented, one trailing newline. The characters `printable` would
 * blank and `JSON.stringify` leaves raw are escaped (`\u009b`), so the data stays exact.
 */
export function json(value: unknown): string {
  const text = JSON.stringify(value, null, 2).replace(
    UNPRINTABLE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `${text}\n`;
}

export interface TableOptions {
  /** Total width to fit in (a terminal's columns): the last column is cut short with "…". */
  maxWidth?: number | undefined;
}

/**
 * A plain table, columns padded and separated by two spaces, headers in capitals: easy to read and
 * to `grep`/`awk`. Widths count code points, which is right for the ASCII most cells hold.
 */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map(clean))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => length(row[i] ?? ""))));
  const last = headers.length - 1;
  if (options.maxWidth !== undefined && last >= 0) {
    const before = widths.slice(0, last).reduce((sum, w) => sum + w + 2, 0);
    widths[last] = Math.max(
      Math.min(widths[last]!, options.maxWidth - before),
      headers[last]!.length,
    );
  }
  return cells
    .map((row) =>
      row
        .map((cell, i) =>
          i === last ? cut(cell, widths[i]!) : pad(cut(cell, widths[i]!), widths[i]!),
        )
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}

/** A two-column "label  value" block; multi-line values are indented under the value column. */
export function details(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs
    .map(([label, value]) => {
      const [first = "", ...rest] = printable(value).split("\n");
      const indent = " ".repeat(width + 2);
      return [`${pad(label, width)}  ${first}`.trimEnd(), ...rest.map((l) => `${indent}${l}`)]
        .join("\n")
        .concat("\n");
    })
    .join("");
}

/** A table cell: one line, printable. */
function clean(text: string): string {
  return printable(text).replace(/\n/g, " ");
}

function length(text: string): number {
  return [...text].length;
}

function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - length(text)));
}

function cut(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}

/** `2026-05-01 10:32:05Z`: UTC, to the second, the same on every machine. */
export function formatDate(date: Date | null, empty = "-"): string {
  if (date === null) return empty;
  return date
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "Z");
}

/** `7d`, `2h 5m`, `45s`: the two largest units (days at most) of a number of seconds. */
export function formatDuration(seconds: number): string {
  let rest = Math.round(Math.abs(seconds));
  if (rest === 0) return "0s";
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join(" ");
}

/** `in 7d` or `3h ago`, from `now`. */
export function relative(date: Date, now: Date): string {
  const seconds = (date.getTime() - now.getTime()) / 1000;
  return seconds >= 0 ? `in ${formatDuration(seconds)}` : `${formatDuration(seconds)} ago`;
}

/** One word for the state of a pass. */
export function visitorStatus(visitor: Visitor): string {
  if (visitor.isUnclaimedRequest) return "pending";
  if (!visitor.isActive) return "inactive";
  if (visitor.hasExpired) return "expired";
  if (visitor.maxUses !== null && visitor.uses >= visitor.maxUses) return "used up";
  return "active";
}

function usesOf(visitor: Visitor): string {
  return visitor.maxUses === null ? `${visitor.uses}` : `${visitor.uses}/${visitor.maxUses}`;
}

function nameOf(visitor: Visitor): string {
  return visitor.fullName || "-";
}

export function visitorTable(visitors: readonly Visitor[], options: TableOptions = {}): string {
  return table(
    ["uuid", "status", "scope", "expires", "uses", "created", "email", "name"],
    visitors.map((v) => [
      v.uuid,
      visitorStatus(v),
      v.scope,
      formatDate(v.expiresAt, "never"),
      usesOf(v),
      formatDate(v.createdAt),
      v.email || "-",
      nameOf(v),
    ]),
    options,
  );
}

function sessionExpiryOf(seconds: number | null): string {
  if (seconds === null) return "the app's own session policy";
  if (seconds === 0) return "0 (the session ends when the browser closes)";
  return `${seconds}s (${formatDuration(seconds)})`;
}

function yesNo(value: boolean): string {
  return value ? "yes" : "no";
}

/** Every field of a pass, `context` pretty-printed, and its link when there is one. */
export function visitorDetails(visitor: Visitor, now: Date, link?: string): string {
  const expires =
    visitor.expiresAt === null
      ? "never"
      : `${formatDate(visitor.expiresAt)} (${relative(visitor.expiresAt, now)})`;
  const pairs: [string, string][] = [
    ["uuid", visitor.uuid],
    ["id", String(visitor.id)],
    ["status", visitorStatus(visitor)],
    ["first name", visitor.firstName || "-"],
    ["last name", visitor.lastName || "-"],
    ["email", visitor.email || "-"],
    ["scope", visitor.scope],
    ["created", formatDate(visitor.createdAt)],
    ["last updated", formatDate(visitor.lastUpdatedAt)],
    ["expires", expires],
    ["active", yesNo(visitor.isActive)],
    ["expired", yesNo(visitor.hasExpired)],
    ["valid", yesNo(visitor.isValid)],
    ["self-service", yesNo(visitor.isSelfService)],
    ["session expiry", sessionExpiryOf(visitor.sessionExpiry)],
    [
      "uses",
      visitor.maxUses === null
        ? `${visitor.uses} (no limit)`
        : `${visitor.uses} of ${visitor.maxUses}`,
    ],
    ["context", visitor.context === null ? "-" : JSON.stringify(visitor.context, null, 2)],
  ];
  if (link !== undefined) pairs.push(["link", link]);
  return details(pairs);
}

/** The path of a logged visit with its (token-free) query string. */
function requestOf(log: VisitorLog): string {
  return log.queryString ? `${log.requestUri}?${log.queryString}` : log.requestUri;
}

export function logTable(logs: readonly VisitorLog[], options: TableOptions = {}): string {
  return table(
    ["time", "method", "path", "status", "address", "user agent"],
    logs.map((log) => [
      formatDate(log.timestamp),
      log.httpMethod,
      requestOf(log),
      log.statusCode === null ? "-" : String(log.statusCode),
      log.remoteAddr ?? "-",
      log.httpUserAgent ?? "-",
    ]),
    options,
  );
}
