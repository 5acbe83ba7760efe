import type { Visitor } from "./visitor.js";

/** Why a link is being sent. */
export type LinkReason =
  /** A visitor whose link expired or was used up asked for a new one (see `freshLinks`). */
  | "freshLink"
  /** A visitor completed the self-service form. */
  | "selfService";

/** One link to send: to `visitor.email`, and nowhere else. */
export interface LinkMessage {
  /** The pass the link admits; its `email` is the only address the link may go to. */
  visitor: Visitor;
  /** The absolute URL carrying the pass's token. */
  url: string;
  reason: LinkReason;
}

/**
 * How the app sends a visitor their link (an email, usually): the `sendLink` option. It is called
 * after the request that caused it has been answered; a rejection is reported to `logger` and
 * changes nothing else. `visitor-pass/mail` builds one over nodemailer.
 *
 * @example
 * ```ts
 * import { createVisitorPass, type SendLink } from "visitor-pass";
 *
 * const sendLink: SendLink = async ({ visitor, url }) => {
 *   await mailer.send({ to: visitor.email, subject: "Your link", text: url });
 * };
 * const passes = createVisitorPass({ sendLink });
 * ```
 */
export type SendLink = (message: LinkMessage) => void | Promise<void>;
