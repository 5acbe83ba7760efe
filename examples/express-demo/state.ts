/** The demo's own data. It lives in memory: restarting the server forgets it. */

/** A signed-in user of the demo site. There is only Fred. */
export interface DemoUser {
  id: string;
  name: string;
}

export const FRED: DemoUser = { id: "fred", name: "Fred" };

const USERS = new Map([[FRED.id, FRED]]);

export function userById(id: unknown): DemoUser | null {
  return typeof id === "string" ? (USERS.get(id) ?? null) : null;
}

/** An email the app would have sent. */
export interface SentEmail {
  to: string;
  subject: string;
  body: string;
  /** The tokenised link the email carries; `null` for a notice that carries none. */
  link: string | null;
  sentAt: Date;
}

/** A reference a visitor left, keyed by the uuid of the pass she was given. */
export interface ReceivedReference {
  passUuid: string;
  forUserId: string;
  fromName: string;
  fromEmail: string;
  text: string;
  receivedAt: Date;
}

export class DemoState {
  readonly #outbox: SentEmail[] = [];
  readonly #references = new Map<string, ReceivedReference>();

  send(email: SentEmail): void {
    this.#outbox.unshift(email);
  }

  /** Sent emails, newest first. */
  outbox(): readonly SentEmail[] {
    return this.#outbox;
  }

  saveReference(reference: ReceivedReference): void {
    this.#references.set(reference.passUuid, reference);
  }

  referenceFor(passUuid: string): ReceivedReference | null {
    return this.#references.get(passUuid) ?? null;
  }

  /** References a user received, newest first. */
  referencesFor(userId: string): ReceivedReference[] {
    return [...this.#references.values()]
      .filter((reference) => reference.forUserId === userId)
      .sort((a, b) => b.receivedAt.getTime() - a.receivedAt.getTime());
  }
}
