/** Base class of every error this package throws; `code` is stable and machine-readable. */
export class VisitorPassError extends Error {
  readonly code: string;

  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A misuse of the package's pieces found while serving a request (a middleware missing or in
 * the wrong order, the wrong object passed): code `VISITOR_PASS_SETUP`, with a message saying
 * what to change.
 */
export function setupError(message: string): VisitorPassError {
  return new VisitorPassError(message, "VISITOR_PASS_SETUP");
}

/** An error that maps to an HTTP response: `status` (and `statusCode`, for Fastify) say which. */
export class VisitorPassHttpError extends VisitorPassError {
  readonly status: number;
  readonly statusCode: number;
  /** The message is safe to show to the client. */
  readonly expose = true;
  /**
   * Headers the response must carry (e.g. `Retry-After`); Express's and Fastify's default error
   * handlers send them, and the adapters set them before handing the error on.
   */
  readonly headers?: Readonly<Record<string, string>>;

  constructor(
    message: string,
    code: string,
    status: number,
    options?: ErrorOptions & { headers?: Record<string, string> },
  ) {
    super(message, code, options);
    this.status = status;
    this.statusCode = status;
    if (options?.headers) this.headers = Object.freeze({ ...options.headers });
  }
}

export type InvalidReason = "inactive" | "expired" | "used-up";

/** A pass exists but cannot be used; `reason` says why. Thrown by `Visitor#validate()`. */
export class InvalidVisitorPass extends VisitorPassError {
  readonly reason: InvalidReason;

  constructor(reason: InvalidReason, message?: string) {
    super(message ?? invalidMessages[reason], "INVALID_VISITOR_PASS");
    this.reason = reason;
  }
}

const invalidMessages: Record<InvalidReason, string> = {
  inactive: "Visitor pass is no longer active.",
  expired: "Visitor pass has expired.",
  "used-up": "Visitor pass has been used as many times as it allows.",
};

/**
 * `reactivate()` was asked to turn on a self-service request whose form was never completed
 * (`Visitor#isUnclaimedRequest`): it has no email, so a working pass would reach nobody. Only
 * completing the form activates it. `promote()` refuses one too: nobody was admitted by it.
 * Nothing was changed.
 */
export class UnclaimedRequestError extends VisitorPassError {
  /** The pass's `id`. */
  readonly visitorId: number;

  constructor(
    visitorId: number,
    message = "This is a self-service request whose form was never completed: it has no email and cannot be reactivated.",
  ) {
    super(message, "UNCLAIMED_SELF_SERVICE_REQUEST");
    this.visitorId = visitorId;
  }
}

/**
 * `promote()` was asked to promote a pass to `userId` when it was already promoted to another
 * user id: a pass becomes one account, once. Nothing was changed.
 */
export class PassAlreadyPromoted extends VisitorPassError {
  /** The pass's `id`. */
  readonly visitorId: number;
  /** The user id it was promoted to before. */
  readonly promotedTo: string;

  constructor(visitorId: number, promotedTo: string) {
    super(
      "This visitor pass was already promoted to another account; it can be promoted only once.",
      "VISITOR_PASS_ALREADY_PROMOTED",
    );
    this.visitorId = visitorId;
    this.promotedTo = promotedTo;
  }
}

/**
 * `reactivate()` was asked to turn on a pass promoted to an account (`Visitor#isPromoted`): the
 * visitor is a user now, and the pass never admits again. Nothing was changed.
 */
export class PromotedPassError extends VisitorPassError {
  /** The pass's `id`. */
  readonly visitorId: number;

  constructor(visitorId: number) {
    super(
      "This visitor pass was promoted to an account: it cannot be reactivated.",
      "VISITOR_PASS_PROMOTED",
    );
    this.visitorId = visitorId;
  }
}

/** A guarded route was reached without a pass for its scope (403). */
export class VisitorAccessDenied extends VisitorPassHttpError {
  readonly scope: string;

  constructor(scope: string, message = "Visitor access denied.") {
    super(message, "VISITOR_ACCESS_DENIED", 403);
    this.scope = scope;
  }
}

/** The token on a request or passed to the API is not a UUID (400). */
export class MalformedVisitorToken extends VisitorPassHttpError {
  constructor(message = "Malformed visitor token.") {
    super(message, "MALFORMED_VISITOR_TOKEN", 400);
  }
}

/** An option or environment variable has a value that cannot work; names both. */
export class VisitorPassConfigError extends VisitorPassError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, problem: string) {
    super(
      `Invalid visitor-pass option "${option}" (${describe(value)}): ${problem}`,
      "VISITOR_PASS_CONFIG",
    );
    this.option = option;
    this.value = value;
  }
}

/** Input to `create()` (or another write) failed validation; nothing was written. */
export class VisitorPassValidationError extends VisitorPassError {
  /** Messages per field, e.g. `{ email: ["Enter a valid email address."] }`. */
  readonly fieldErrors: Record<string, string[]>;

  constructor(fieldErrors: Record<string, string[]>) {
    const summary = Object.entries(fieldErrors)
      .map(([field, messages]) => `${field}: ${messages.join(" ")}`)
      .join("; ");
    super(`Invalid visitor pass: ${summary}`, "VISITOR_PASS_VALIDATION");
    this.fieldErrors = fieldErrors;
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

/**
 * The pass store cannot be reached or failed: no pass is honoured until it recovers (503).
 * Guarded routes answer with it; routes that need no pass keep working.
 */
export class VisitorPassUnavailable extends VisitorPassHttpError {
  constructor(options?: ErrorOptions) {
    super(
      "Visitor passes are unavailable right now; please try again shortly.",
      "VISITOR_PASS_UNAVAILABLE",
      503,
      options,
    );
  }
}

/**
 * A write failed because the database has no room left (SQLite `SQLITE_FULL`): nothing was
 * written; `cause` is the database's error. A 503, like any store failure, with a code of its
 * own so that monitoring can tell it apart.
 */
export class VisitorPassStorageFull extends VisitorPassUnavailable {
  override readonly code = "VISITOR_PASS_STORAGE_FULL";
}

/**
 * Too many requests of one kind from one client network (429): `retryAfter` is the number of
 * seconds to wait, also sent as the `Retry-After` header.
 */
export class VisitorPassThrottled extends VisitorPassHttpError {
  readonly retryAfter: number;

  constructor(retryAfter: number, message = "Too many requests; please try again later.") {
    const seconds = Math.max(1, Math.ceil(retryAfter));
    super(message, "VISITOR_PASS_THROTTLED", 429, { headers: { "Retry-After": String(seconds) } });
    this.retryAfter = seconds;
  }
}

/** The requested URL is too long to be remembered as where a visitor was going (414). */
export class VisitorPassUriTooLong extends VisitorPassHttpError {
  /** The longest URL (path and query string) remembered, in characters. */
  readonly limit: number;

  constructor(limit: number, message = "The requested URL is too long.") {
    super(message, "VISITOR_PASS_URI_TOO_LONG", 414);
    this.limit = limit;
  }
}
