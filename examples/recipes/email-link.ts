// Sending Ginger her link by email with nodemailer: the tokenised URL as plain text, readable
// and copyable in any mail client, beside the HTML button.
import nodemailer, { type Transporter } from "nodemailer";
import type { Visitor, VisitorPass } from "visitor-pass";

const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** SMTP from SMTP_URL (smtps://user:password@smtp.example.org), or whatever transport you use. */
export function createMailer(): Transporter {
  return nodemailer.createTransport(process.env.SMTP_URL);
}

/** Emails `visitor` a link to `url` that admits them; resolves to nodemailer's answer. */
export async function sendLink(
  mailer: Transporter,
  passes: VisitorPass,
  visitor: Visitor,
  url: string, // absolute: the mail client has no page to resolve it against
  from = "Fred via References <references@app.example>",
) {
  const link = passes.tokenise(url, visitor);
  const name = visitor.fullName || visitor.email;
  const until = visitor.expiresAt
    ? `The link works until ${visitor.expiresAt.toUTCString()}. `
    : "";
  return mailer.sendMail({
    from,
    to: { name, address: visitor.email },
    subject: "Fred asks you for a reference",
    text: `Hello ${name},

Fred asks you for a reference. Open this link to write it (no account needed):

${link}

${until}If you were not expecting this email, ignore it.
`,
    html: `<p>Hello ${html(name)},</p>
<p>Fred asks you for a reference. No account is needed.</p>
<p><a href="${html(link)}" style="display:inline-block;padding:10px 16px;background:#2f6f4f;color:#fff;text-decoration:none;border-radius:4px">Write the reference</a></p>
<p>If the button does not work, copy this address into your browser:<br>${html(link)}</p>
<p>${html(until)}If you were not expecting this email, ignore it.</p>`,
  });
}
