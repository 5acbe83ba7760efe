export type { LinkMessage, LinkReason, SendLink } from "../../core/send-link.js";
export type { MailTemplate } from "../../ui/mail/mail-templates.js";
export { defaultMailTemplates } from "../../ui/mail/mail-templates.js";
export {
  type LinkMail,
  type MailSenderOptions,
  type MailTransport,
  mailSender,
  subjectLine,
} from "./mail-sender.js";
