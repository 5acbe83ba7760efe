// Self-service sign-up whose link is emailed: `mailSender` from visitor-pass/mail is the
// `sendLink` option, links are built on `baseUrl` (never on a request's Host header), and in
// development the admin's Outbox page lists every link sent, so nobody digs through logs.
import express, { type Express } from "express";
import session from "express-session";
import { createVisitorPass, type VisitorPass } from "visitor-pass";
import { selfService, userIsVisitor, visitorAdmin, visitorPass } from "visitor-pass/express";
import { type MailTransport, mailSender } from "visitor-pass/mail";

export const SCOPE = "EARLY_ACCESS";

export interface MailSetup {
  /** Where the links point: the app's origin as visitors reach it. */
  baseUrl: string;
  /**
   * An SMTP URL (smtps://user:password@smtp.example.org), nodemailer transport options, or a
   * transporter you built; nodemailer is loaded on the first email.
   */
  transport: MailTransport | string;
  database?: string;
  env?: Record<string, string | undefined>;
}

export function createPasses({ baseUrl, transport, ...options }: MailSetup): VisitorPass {
  return createVisitorPass({
    ...options,
    baseUrl,
    sendLink: mailSender({
      transport,
      from: "Early access <early@app.example>",
      templates: {
        selfService: { subject: (message) => `Your early access, ${message.visitor.firstName}` },
      },
    }),
    // outbox: on by itself when NODE_ENV is "development"; `true` or `false` decides.
  });
}

export function createApp(passes: VisitorPass, sessionSecret: string, staffKey: string): Express {
  const app = express();
  app.use(session({ secret: sessionSecret, resave: false, saveUninitialized: false }));
  app.use(visitorPass(passes));
  // The form at /visitors/self-service/<id>: completing it emails the link.
  app.use("/visitors", selfService(passes));
  app.get("/early-access", userIsVisitor({ scope: SCOPE, selfService: true }), (req, res) => {
    res.type("text/plain").send(`Welcome, ${req.visitor!.email}.`);
  });
  app.use(
    "/admin/visitors", // the Outbox page is /admin/visitors/outbox while the outbox is on
    visitorAdmin(passes, { authorize: (req) => req.get("x-staff") === staffKey }),
  );
  return app;
}
