import { VisitorPassConfigError } from "../../core/errors.js";
import type { LinkMessage, LinkReason } from "../../core/send-link.js";
import { defaultMailTemplates, type MailTemplate } from "../../ui/mail/mail-templates.js";

/** What the sender hands the transport: nodemailer's `sendMail` options, as far as it sets them. */
export interface LinkMail {
  from: string | { name: string; address: string };
  to: { name: string; address: string };
  subject: string;
  text: string;
  html: string;
}

/** A nodemailer transporter (what `nodemailer.createTransport()` returns), or anything like it. */
export interface MailTransport {
  sendMail(mail: LinkMail): Promise<unknown>;
}

/**
 * Options of `mailSender()`.
 *
 * @example
 * ```ts
 * const options: MailSenderOptions = {
 *   transport: process.env.SMTP_URL ?? { jsonTransport: true },
 *   from: "References <references@app.example>",
 *   subject: (message) => (message.reason === "freshLink" ? "A new link" : "Your reference link"),
 * };
 * ```
 */
export interface MailSenderOptions {
  /**
   * A nodemailer transporter, or what `nodemailer.createTransport()` takes (an SMTP URL, or
   * transport options): nodemailer is then loaded on the first email, so it is needed only by
   * apps that send mail.
   */
  transport: MailTransport | string | Record<string, unknown>;
  /** The sender, e.g. `"References <references@app.example>"` or `{ name, address }`. */
  from: string | { name: string; address: string };
  /**
   * The subject line, or a function of the message that makes it; a reason's template
   * `subject` wins over it. Line breaks and other control characters are replaced with spaces:
   * a name in a subject cannot add a header.
   * @default "Your link" (self-service), "Your new link" (fresh links)
   */
  subject?: string | ((message: LinkMessage) => string);
  /** Replace any part of a reason's email (`subject`, `text`, `html`). */
  templates?: Partial<Record<LinkReason, Partial<MailTemplate>>>;
}

/** Control characters: a subject (a header) must hold none, CR and LF above all. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]+/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
const HAS_CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;
/** One plain address, as `create()` validates it: nothing that would make it a list. */
const ADDRESS = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+$/;
const MAX_SUBJECT = 250;

/**
 * A subject line safe to put in a header: one line (line breaks and other control characters
 * become spaces), trimmed, at most 250 characters.
 *
 * @example
 * ```ts
 * subjectLine("Hello Ginger\r\nBcc: everyone@example.org"); // "Hello Ginger Bcc: everyone@example.org"
 * ```
 */
export function subjectLine(value: string): string {
  const line = String(value).replace(CONTROL, " ").replace(/\s+/g, " ").trim();
  return line.length > MAX_SUBJECT ? `${line.slice(0, MAX_SUBJECT - 1)}…` : line;
}

/**
 * A `sendLink` that emails the link with nodemailer: to `visitor.email` and nobody else, from
 * `from`, with a plain-text and an HTML body (the HTML's button always has the address printed
 * beside it). Give it to `createVisitorPass({ sendLink })`, with `baseUrl` so that links are
 * absolute. nodemailer is an optional peer dependency: install it to use this.
 *
 * @example
 * ```ts
 * import { createVisitorPass } from "visitor-pass";
 * import { mailSender } from "visitor-pass/mail";
 *
 * const passes = createVisitorPass({
 *   baseUrl: "https://app.example",
 *   sendLink: mailSender({
 *     transport: process.env.SMTP_URL ?? "smtp://localhost:1025", // or a nodemailer transporter
 *     from: "References <references@app.example>",
 *   }),
 * });
 * ```
 */
export function mailSender(options: MailSenderOptions): (message: LinkMessage) => Promise<void> {
  const { transport, from, subject, templates } = checkOptions(options);
  let transporter: Promise<MailTransport> | null = null;
  const open = () => {
    transporter ??= openTransport(transport);
    return transporter;
  };
  return async (message: LinkMessage) => {
    const address = message?.visitor?.email;
    if (typeof address !== "string" || !ADDRESS.test(address)) {
      throw new Error("mailSender: the visitor has no email address to send the link to");
    }
    const reason = message.reason;
    const defaults = defaultMailTemplates[reason];
    if (!defaults) throw new Error(`mailSender: unknown reason ${JSON.stringify(reason)}`);
    const own = templates?.[reason] ?? {};
    const title = own.subject
      ? own.subject(message)
      : typeof subject === "function"
        ? subject(message)
        : (subject ?? defaults.subject(message));
    const mail: LinkMail = {
      from,
      to: { name: "", address },
      subject: subjectLine(title),
      text: (own.text ?? defaults.text)(message),
      html: (own.html ?? defaults.html)(message),
    };
    await (await open()).sendMail(mail);
  };
}

function checkOptions(options: MailSenderOptions): MailSenderOptions {
  if (typeof options !== "object" || options === null) {
    throw new VisitorPassConfigError("mailSender", options, "expected { transport, from }");
  }
  const { transport, from, subject, templates } = options;
  if (
    (typeof transport !== "string" || transport === "") &&
    (typeof transport !== "object" || transport === null)
  ) {
    throw new VisitorPassConfigError(
      "transport",
      transport,
      "expected a nodemailer transporter, an SMTP URL or transport options",
    );
  }
  const fromAddress = typeof from === "string" ? from : from?.address;
  const fromName = typeof from === "string" ? "" : (from?.name ?? "");
  if (
    typeof fromAddress !== "string" ||
    !fromAddress.includes("@") ||
    typeof fromName !== "string" ||
    HAS_CONTROL.test(fromAddress + fromName)
  ) {
    throw new VisitorPassConfigError(
      "from",
      from,
      'expected an address such as "References <references@app.example>", on one line',
    );
  }
  if (subject !== undefined && typeof subject !== "string" && typeof subject !== "function") {
    throw new VisitorPassConfigError("subject", subject, "expected a string or a function");
  }
  if (templates !== undefined) {
    if (typeof templates !== "object" || templates === null) {
      throw new VisitorPassConfigError(
        "templates",
        templates,
        "expected { selfService?, freshLink? }",
      );
    }
    for (const [reason, parts] of Object.entries(templates)) {
      if (!(reason in defaultMailTemplates)) {
        throw new VisitorPassConfigError(
          "templates",
          reason,
          'expected templates for "selfService" or "freshLink"',
        );
      }
      for (const [part, fn] of Object.entries(parts ?? {})) {
        if (!["subject", "text", "html"].includes(part) || typeof fn !== "function") {
          throw new VisitorPassConfigError(
            `templates.${reason}.${part}`,
            fn,
            "expected subject, text or html, each a function of the message",
          );
        }
      }
    }
  }
  return options;
}

async function openTransport(transport: MailSenderOptions["transport"]): Promise<MailTransport> {
  if (
    typeof transport === "object" &&
    typeof (transport as MailTransport).sendMail === "function"
  ) {
    return transport as MailTransport;
  }
  let nodemailer: typeof import("nodemailer");
  try {
    nodemailer = await import("nodemailer");
  } catch (error) {
    throw new Error(
      "mailSender: nodemailer is not installed; run `npm install nodemailer`, or hand mailSender a transporter",
      { cause: error },
    );
  }
  const create = nodemailer.createTransport ?? nodemailer.default?.createTransport;
  return create(transport as never) as unknown as MailTransport;
}
