import { VisitorPassConfigError } from "../../core/errors.js";
import type { VisitorPassEventName } from "../../core/events.js";

/**
 * Options of `sendWebhooks`.
 *
 * @example
 * ```ts
 * const options: WebhookOptions = {
 *   url: "https://hooks.example.org/visitor-pass",
 *   secret: process.env.WEBHOOK_SECRET!, // whsec_<base64>
 *   events: ["selfServiceVisitorCreated", "passDeactivated"],
 * };
 * ```
 */
export interface WebhookOptions {
  /** Where each event is POSTed (`http:` or `https:`). */
  url: string | URL;
  /**
   * The signing secret: `whsec_<base64>` as Standard Webhooks libraries print them (the decoded
   * bytes are the key), or any other string of at least 24 bytes (its UTF-8 bytes are the key).
   */
  secret: string;
  /**
   * The events sent, by name: any event of `passes.on`, those added later included.
   * @default DEFAULT_WEBHOOK_EVENTS (the six events of the pass service)
   */
  events?: readonly VisitorPassEventName[];
  /** Attempts after the first, on a network error, a timeout, a 5xx, 408 or 429. @default 5 */
  retries?: number;
  /** Milliseconds before the first retry, doubled at each, with jitter. @default 1000 */
  retryDelay?: number;
  /** The longest wait between attempts, `Retry-After` included, in milliseconds. @default 60000 */
  maxRetryDelay?: number;
  /** Events waiting at most; when full, one is dropped and the logger told. @default 1000 */
  queueLimit?: number;
  /** Which event a full queue drops: the oldest waiting, or the one arriving. @default "oldest" */
  drop?: "oldest" | "newest";
  /** Milliseconds one attempt may take (`AbortSignal.timeout`). @default 10000 */
  timeout?: number;
  /** Milliseconds `close()` spends sending what is queued before dropping the rest. @default 5000 */
  closeTimeout?: number;
  /** Put the pass's token (`uuid`) in the payloads. Only for a receiver you trust with links. @default false */
  includeToken?: boolean;
  /** The `fetch` used (tests inject one). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * The events sent when `events` is not given: the six of the pass service. `passFlaggedShared`
 * among them makes the visit-log writer read sharing counts around each batch (as any handler of
 * it does): list the events without it when nothing needs it.
 */
export const DEFAULT_WEBHOOK_EVENTS: readonly VisitorPassEventName[] = [
  "selfServiceVisitorCreated",
  "visitorAdmitted",
  "visitorCleared",
  "passDeactivated",
  "passFlaggedShared",
  "freshLinkSent",
];

export interface ResolvedWebhookOptions {
  url: URL;
  events: readonly VisitorPassEventName[];
  retries: number;
  retryDelay: number;
  maxRetryDelay: number;
  queueLimit: number;
  drop: "oldest" | "newest";
  timeout: number;
  closeTimeout: number;
  includeToken: boolean;
  fetch: typeof fetch;
}

/** Checks the options once, naming the option of any bad value. */
export function resolveWebhookOptions(options: WebhookOptions): ResolvedWebhookOptions {
  if (typeof options !== "object" || options === null) {
    throw new VisitorPassConfigError("sendWebhooks", options, "needs { url, secret }");
  }
  let url: URL;
  try {
    url = new URL(String(options.url));
  } catch {
    throw new VisitorPassConfigError("url", options.url, "must be an absolute http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new VisitorPassConfigError("url", options.url, "must be an http: or https: URL");
  }
  if (url.username || url.password) {
    throw new VisitorPassConfigError(
      "url",
      "(with credentials)",
      "must not carry a user or password",
    );
  }
  const events = options.events ?? DEFAULT_WEBHOOK_EVENTS;
  if (
    !Array.isArray(events) ||
    events.length === 0 ||
    !events.every((name) => typeof name === "string" && name !== "")
  ) {
    throw new VisitorPassConfigError("events", events, "must be a non-empty list of event names");
  }
  const drop = options.drop ?? "oldest";
  if (drop !== "oldest" && drop !== "newest") {
    throw new VisitorPassConfigError("drop", drop, 'must be "oldest" or "newest"');
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== "function") {
    throw new VisitorPassConfigError("fetch", options.fetch, "must be a function like fetch");
  }
  if (options.includeToken !== undefined && typeof options.includeToken !== "boolean") {
    throw new VisitorPassConfigError("includeToken", options.includeToken, "must be true or false");
  }
  return {
    url,
    events: [...new Set(events)],
    retries: whole("retries", options.retries, 5, 0, 20),
    retryDelay: whole("retryDelay", options.retryDelay, 1000, 0, 3_600_000),
    maxRetryDelay: whole("maxRetryDelay", options.maxRetryDelay, 60_000, 0, 3_600_000),
    queueLimit: whole("queueLimit", options.queueLimit, 1000, 1, 1_000_000),
    drop,
    timeout: whole("timeout", options.timeout, 10_000, 1, 300_000),
    closeTimeout: whole("closeTimeout", options.closeTimeout, 5000, 0, 300_000),
    includeToken: options.includeToken ?? false,
    fetch: fetchImpl,
  };
}

function whole(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new VisitorPassConfigError(option, value, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}
