import type { VisitorPassLogger } from "../../core/config.js";
import { VisitorPassConfigError } from "../../core/errors.js";
import type { Visitor } from "../../core/visitor.js";

/** Where a valid submission sends the browser: a path on this site, or one chosen per visitor. */
export type SuccessRedirect = string | ((visitor: Visitor) => string | Promise<string>);

/** The page a valid submission answers with, given the claimed visitor (the whole document). */
export type SuccessPage = (visitor: Visitor) => string | Promise<string>;

const MAX_PATH_LENGTH = 2048;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
const UNSAFE = /[\u0000-\u001f\u007f\\]/;

/**
 * Whether `path` is a path on this site, safe to send a browser to: it starts with one `/` (not
 * `//` nor `/\`, which browsers read as another host), holds no backslash or control character,
 * and stays on the same origin once resolved.
 */
export function isSameSitePath(path: unknown): path is string {
  if (typeof path !== "string" || path.length > MAX_PATH_LENGTH) return false;
  if (!path.startsWith("/") || path.startsWith("//") || UNSAFE.test(path)) return false;
  try {
    return new URL(path, "http://same.site.invalid").origin === "http://same.site.invalid";
  } catch {
    return false;
  }
}

/** Checks `successRedirect` and `successPage` when the pages are built. */
export function checkSuccessOptions(redirect: unknown, successPage: unknown): void {
  if (redirect !== undefined && typeof redirect !== "function" && !isSameSitePath(redirect)) {
    throw new VisitorPassConfigError(
      "successRedirect",
      redirect,
      'must be a path on this site, like "/thanks" (never another site\'s URL), or a function of the visitor returning one',
    );
  }
  if (successPage !== undefined && typeof successPage !== "function") {
    throw new VisitorPassConfigError(
      "successPage",
      successPage,
      "must be a function of the visitor returning the page's HTML",
    );
  }
}

/**
 * The path a `successRedirect` function gives for `visitor`, or `null` (reported to `logger`)
 * when it throws or gives anything but a same-site path: the browser then gets the built-in page,
 * never another site.
 */
export async function redirectFor(
  redirect: SuccessRedirect,
  visitor: Visitor,
  logger: VisitorPassLogger,
): Promise<string | null> {
  let path: unknown;
  try {
    path = typeof redirect === "function" ? await redirect(visitor) : redirect;
  } catch (error) {
    report(logger, `successRedirect failed: ${describe(error)}`);
    return null;
  }
  if (isSameSitePath(path)) return path;
  report(
    logger,
    `successRedirect gave ${JSON.stringify(String(path)).slice(0, 200)}, not a path on this site`,
  );
  return null;
}

/** The page `successPage` renders for `visitor`, or `null` (reported to `logger`) when it throws. */
export async function successPageFor(
  render: SuccessPage,
  visitor: Visitor,
  logger: VisitorPassLogger,
): Promise<string | null> {
  try {
    return String(await render(visitor));
  } catch (error) {
    report(logger, `successPage failed: ${describe(error)}`);
    return null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function report(logger: VisitorPassLogger, message: string): void {
  try {
    logger.error(`visitor-pass: self-service ${message}; the built-in page was used`);
  } catch {
    // A logger that throws must not fail a submission that succeeded.
  }
}
