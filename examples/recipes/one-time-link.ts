// A link that works once, for one person: `maxUses: 1` spends it on the first admission, the
// confirmation page keeps a mail scanner's GET from spending it, and the final step deactivates
// the pass, so that even a session still holding it is refused.
import express, { type ErrorRequestHandler, type Express } from "express";
import session from "express-session";
import { createVisitorPass, type VisitorPass, VisitorPassHttpError } from "visitor-pass";
import { clearVisitor, userIsVisitor, visitorPass } from "visitor-pass/express";

export const SCOPE = "REFERENCE_REQUEST";
const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Links of this scope first show "Continue as …" (a GET) and admit only when it is posted. */
export function createPasses(database?: string): VisitorPass {
  return createVisitorPass({ database, confirm: [SCOPE] });
}

/** Ginger's link: one admission, within a week. */
export async function inviteOnce(passes: VisitorPass, site: string): Promise<string> {
  const visitor = await passes.create({
    email: "ginger@example.org",
    firstName: "Ginger",
    scope: SCOPE,
    maxUses: 1, // the second browser to open the link is refused
    expiresAt: new Date(Date.now() + 7 * 24 * 3600 * 1000),
  });
  return passes.tokenise(`${site}/reference`, visitor);
}

export function createApp(passes: VisitorPass, sessionSecret: string): Express {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(session({ secret: sessionSecret, resave: false, saveUninitialized: false }));
  app.use(visitorPass(passes));

  const onlyReferees = userIsVisitor({ scope: SCOPE });
  app.get("/reference", onlyReferees, (req, res) => {
    res.send(`<p>Hello ${html(req.visitor!.firstName)}, Fred asks you for a reference.</p>
<form method="post"><textarea name="text"></textarea><button>Send</button></form>`);
  });
  app.post("/reference", onlyReferees, async (req, res) => {
    // …save req.body.text…
    await passes.deactivate(req.visitor!.uuid); // the link and every session holding it stop
    clearVisitor(req); // and this session forgets it at once
    res.redirect(303, "/thanks");
  });
  app.get("/thanks", (_req, res) => {
    res.send("<p>Thank you!</p>");
  });

  const onError: ErrorRequestHandler = (error, _req, res, next) => {
    if (!(error instanceof VisitorPassHttpError)) return next(error);
    res.status(error.status).send(`<h1>${error.status}</h1><p>${html(error.message)}</p>`);
  };
  app.use(onError);
  return app;
}
