import type { LinkMessage, LinkReason } from "../../core/send-link.js";
import { html, type SafeHtml } from "../html.js";

/**
 * One reason's email: its subject line, plain-text body and HTML body, each made from the
 * message (the visitor, the link, the reason). The HTML body must escape what it prints (the
 * package's templates use the same `html` tag as its pages).
 */
export interface MailTemplate {
  subject(message: LinkMessage): string;
  text(message: LinkMessage): string;
  html(message: LinkMessage): string;
}

interface Wording {
  subject: string;
  intro: string;
  button: string;
}

const WORDING: Record<LinkReason, Wording> = {
  selfService: {
    subject: "Your link",
    intro: "Here is the link you asked for. Open it to continue; no account is needed.",
    button: "Open your link",
  },
  freshLink: {
    subject: "Your new link",
    intro: "Your earlier link no longer works, so here is a new one. Open it to continue.",
    button: "Open your new link",
  },
};

function greeting(message: LinkMessage): string {
  const name = message.visitor.firstName.trim();
  return name ? `Hello ${name},` : "Hello,";
}

function expiry(message: LinkMessage): string {
  const at = message.visitor.expiresAt;
  if (!at || Number.isNaN(at.getTime())) return "";
  const two = (n: number) => String(n).padStart(2, "0");
  return `The link works until ${at.getUTCFullYear()}-${two(at.getUTCMonth() + 1)}-${two(at.getUTCDate())} ${two(at.getUTCHours())}:${two(at.getUTCMinutes())} UTC. `;
}

const CLOSING =
  "It is for you alone: please do not forward it. If you did not ask for it, ignore this email.";

function textBody(message: LinkMessage, wording: Wording): string {
  return `${greeting(message)}

${wording.intro}

${message.url}

${expiry(message)}${CLOSING}
`;
}

function htmlBody(message: LinkMessage, wording: Wording): string {
  const button: SafeHtml = html`<a href="${message.url}" style="display:inline-block;padding:10px 18px;background:#2f5fd0;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">${wording.button}</a>`;
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${wording.subject}</title></head>
<body style="font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;line-height:1.5;color:#1d2430">
<p>${greeting(message)}</p>
<p>${wording.intro}</p>
<p>${button}</p>
<p>If the button does not work, copy this address into your browser:<br><span style="word-break:break-all">${message.url}</span></p>
<p style="color:#5b6473">${expiry(message)}${CLOSING}</p>
</body>
</html>
`.value;
}

function template(reason: LinkReason): MailTemplate {
  const wording = WORDING[reason];
  return {
    subject: () => wording.subject,
    text: (message) => textBody(message, wording),
    html: (message) => htmlBody(message, wording),
  };
}

/**
 * The package's emails, one per reason: a greeting by first name, one line on why, the link as
 * a button and, beside it, the address itself as text (link rewriters and some mail clients
 * mangle buttons), its expiry, and a line on not forwarding it.
 */
export const defaultMailTemplates: Readonly<Record<LinkReason, MailTemplate>> = Object.freeze({
  selfService: template("selfService"),
  freshLink: template("freshLink"),
});
