// The self-service form with the app's own fields: a company (required) and a reason, validated
// with zod and kept in the pass's context; the email pre-filled from the link that led here; and a
// thank-you page of the app's own, given the visitor.
import express, { type Express } from "express";
import session from "express-session";
import { createVisitorPass, type VisitorPass } from "visitor-pass";
import { selfService, userIsVisitor, visitorPass } from "visitor-pass/express";
import { z } from "zod";

export const SCOPE = "EARLY_ACCESS";
const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function createPasses(database?: string): VisitorPass {
  return createVisitorPass({ database });
}

export function createApp(passes: VisitorPass, sessionSecret: string): Express {
  const app = express();
  app.use(session({ secret: sessionSecret, resave: false, saveUninitialized: false }));
  app.use(visitorPass(passes));

  app.use(
    passes.config.selfServicePath, // "/visitors"
    selfService(passes, {
      // Shown after the built-in name and email fields; stored as context.company, context.reason.
      fields: {
        company: {
          label: "Company",
          schema: z.string().trim().min(1, "Tell us where you work.").max(100),
          required: true,
          autocomplete: "organization",
        },
        reason: {
          label: "Why do you want early access?",
          type: "textarea",
          maxLength: 1000,
          schema: z.string().trim().max(1000),
        },
      },
      // The page the visitor wanted is in the pending pass: /early-access?email=…
      initial: (_query, pending) => {
        const wanted = new URL(String(pending.context?.redirectTo), "http://app.invalid");
        return { email: wanted.searchParams.get("email") ?? "" };
      },
      // Instead of the built-in "Check your email": your page, given the claimed visitor.
      successPage: (visitor) =>
        `<!doctype html><title>Thanks</title>
<p>Thanks, ${html(visitor.firstName)} of ${html(String(visitor.context?.company))}:
your link is on its way to ${html(visitor.email)}.</p>`,
      // Or send the browser to a page of yours: a path on this site only.
      // successRedirect: (visitor) => `/thanks?scope=${encodeURIComponent(visitor.scope)}`,
    }),
  );

  app.get("/early-access", userIsVisitor({ scope: SCOPE, selfService: true }), (req, res) => {
    const company = String(req.visitor!.context?.company);
    res.send(`<p>Welcome, ${html(req.visitor!.firstName)} of ${html(company)}.</p>`);
  });
  return app;
}
