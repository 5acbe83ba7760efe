import { InvalidVisitorPass } from "./errors.js";

/** What the store keeps of a pass. */
export interface VisitorRecord {
  id: number;
  uuid: string;
  firstName: string;
  lastName: string;
  email: string;
  scope: string;
  context: Record<string, unknown> | null;
  createdAt: Date;
  lastUpdatedAt: Date;
  expiresAt: Date | null;
  isActive: boolean;
  sessionExpiry: number | null;
  maxUses: number | null;
  uses: number;
  /**
   * The user id of the account this pass was promoted to (`passes.promote`), `null` (or left out,
   * by a store written before promotion existed) while it was not.
   */
  promotedTo?: string | null;
  /** When it was promoted; `null` (or left out) while it was not. */
  promotedAt?: Date | null;
  /**
   * Created with `freshLinks: true`: its link, once expired or used up, offers a fresh one
   * whatever its scope (see the `freshLinks` option). Absent means `false`.
   */
  freshLinks?: boolean;
}

/** A visitor log row: one guarded visit. */
export interface VisitorLog {
  id: number;
  visitorId: number;
  sessionKey: string | null;
  httpMethod: string;
  /** The path, without the query string. */
  requestUri: string;
  /** The query string without `?` and with the token removed. */
  queryString: string;
  httpUserAgent: string | null;
  httpReferer: string | null;
  remoteAddr: string | null;
  statusCode: number | null;
  timestamp: Date;
}

/** The JSON-safe form of a `Visitor`, as `serialize()` returns it. */
export interface SerializedVisitor {
  id: number;
  uuid: string;
  firstName: string;
  lastName: string;
  fullName: string;
  email: string;
  scope: string;
  context: Record<string, unknown> | null;
  createdAt: string;
  lastUpdatedAt: string;
  expiresAt: string | null;
  isActive: boolean;
  sessionExpiry: number | null;
  maxUses: number | null;
  uses: number;
  freshLinks: boolean;
  hasExpired: boolean;
  isValid: boolean;
  isSelfService: boolean;
  promotedTo: string | null;
  promotedAt: string | null;
}

/** A visitor pass: someone known of, let into the routes guarded for `scope`. */
export class Visitor implements VisitorRecord {
  readonly id: number;
  readonly uuid: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly scope: string;
  readonly context: Record<string, unknown> | null;
  readonly createdAt: Date;
  readonly lastUpdatedAt: Date;
  readonly expiresAt: Date | null;
  readonly isActive: boolean;
  readonly sessionExpiry: number | null;
  readonly maxUses: number | null;
  readonly uses: number;
  /** The user id of the account the pass was promoted to (`passes.promote`), or `null`. */
  readonly promotedTo: string | null;
  /** When the pass was promoted, or `null`. */
  readonly promotedAt: Date | null;
  readonly freshLinks: boolean;
  readonly #now: () => Date;

  constructor(record: VisitorRecord, now: () => Date = () => new Date()) {
    this.id = record.id;
    this.uuid = record.uuid;
    this.firstName = record.firstName;
    this.lastName = record.lastName;
    this.email = record.email;
    this.scope = record.scope;
    this.context = record.context;
    this.createdAt = record.createdAt;
    this.lastUpdatedAt = record.lastUpdatedAt;
    this.expiresAt = record.expiresAt;
    this.isActive = record.isActive;
    this.sessionExpiry = record.sessionExpiry;
    this.maxUses = record.maxUses;
    this.uses = record.uses;
    this.promotedTo = record.promotedTo ?? null;
    this.promotedAt = record.promotedAt ?? null;
    this.freshLinks = record.freshLinks ?? false;
    this.#now = now;
  }

  get fullName(): string {
    return `${this.firstName} ${this.lastName}`.trim();
  }

  /** The link can no longer be used: its `expiresAt` has passed. */
  get hasExpired(): boolean {
    return this.expiresAt !== null && this.expiresAt.getTime() <= this.#now().getTime();
  }

  /** Active, not expired and not promoted: the link can admit. */
  get isValid(): boolean {
    return this.isActive && !this.hasExpired && !this.isPromoted;
  }

  /**
   * Promoted to an account (`passes.promote`): the visitor became a user, and the pass never
   * admits again, nor can it be reactivated.
   */
  get isPromoted(): boolean {
    return this.promotedTo !== null;
  }

  /** Created by a self-service guard rather than by the app. */
  get isSelfService(): boolean {
    return this.context?.selfService === true;
  }

  /**
   * A self-service request whose form was never completed: it has no email, so no link was ever
   * sent for it. It never admits and cannot be reactivated; only completing its form turns it
   * into a pass (under a token of its own).
   */
  get isUnclaimedRequest(): boolean {
    return this.isSelfService && this.email === "";
  }

  /**
   * Throws `InvalidVisitorPass` saying why the link cannot admit (inactive, expired, or used as
   * many times as `maxUses` allows); returns quietly otherwise.
   */
  validate(): void {
    if (this.isUnclaimedRequest) {
      throw new InvalidVisitorPass("inactive", "This self-service request was never completed.");
    }
    if (this.isPromoted) {
      throw new InvalidVisitorPass("inactive", "This visitor pass was promoted to an account.");
    }
    if (!this.isActive) throw new InvalidVisitorPass("inactive");
    if (this.hasExpired) throw new InvalidVisitorPass("expired");
    if (this.maxUses !== null && this.uses >= this.maxUses) throw new InvalidVisitorPass("used-up");
  }

  serialize(): SerializedVisitor {
    return {
      id: this.id,
      uuid: this.uuid,
      firstName: this.firstName,
      lastName: this.lastName,
      fullName: this.fullName,
      email: this.email,
      scope: this.scope,
      context: this.context,
      createdAt: this.createdAt.toISOString(),
      lastUpdatedAt: this.lastUpdatedAt.toISOString(),
      expiresAt: this.expiresAt?.toISOString() ?? null,
      isActive: this.isActive,
      sessionExpiry: this.sessionExpiry,
      maxUses: this.maxUses,
      uses: this.uses,
      freshLinks: this.freshLinks,
      hasExpired: this.hasExpired,
      isValid: this.isValid,
      isSelfService: this.isSelfService,
      promotedTo: this.promotedTo,
      promotedAt: this.promotedAt?.toISOString() ?? null,
    };
  }

  toJSON(): SerializedVisitor {
    return this.serialize();
  }
}
