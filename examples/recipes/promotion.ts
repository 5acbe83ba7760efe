// A visitor who signs up becomes a user: the sign-up handler creates the account, then promotes
// the pass to it. The pass is turned off in the same statement (its link and every session
// holding it stop at once), and keeps its context and visits, which the account page reads.
import express, { type ErrorRequestHandler, type Express } from "express";
import session from "express-session";
import { createVisitorPass, type VisitorPass, VisitorPassHttpError } from "visitor-pass";
import { clearVisitor, userIsVisitor, visitorPass } from "visitor-pass/express";

export const SCOPE = "TRIAL";
const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

declare module "express-session" {
  interface SessionData {
    userId?: string;
  }
}

/** The app's own accounts (a table in a real app). */
export const users = new Map<string, { email: string }>();
/** Welcome emails to send (a mail queue in a real app). */
export const welcomes: { to: string; userId: string }[] = [];

export function createPasses(database?: string): VisitorPass {
  const passes = createVisitorPass({ database });
  // Fired once per pass promoted, after the call; a failing handler fails nothing.
  passes.on("visitorPromoted", ({ visitor, userId }) => {
    welcomes.push({ to: visitor.email, userId });
  });
  return passes;
}

export function createApp(passes: VisitorPass, sessionSecret: string): Express {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(session({ secret: sessionSecret, resave: false, saveUninitialized: false }));
  app.use(visitorPass(passes));

  app.get("/trial", userIsVisitor({ scope: SCOPE }), (req, res) => {
    res.send(`<p>Welcome ${html(req.visitor!.firstName)}.</p>
<form method="post" action="/sign-up"><button>Create my account</button></form>`);
  });

  app.post("/sign-up", async (req, res) => {
    const visitor = req.visitor;
    if (!visitor) return void res.status(403).send("<p>Open your invitation link first.</p>");
    const userId = `u${users.size + 1}`;
    users.set(userId, { email: visitor.email });
    await passes.promote(visitor.uuid, { userId }); // the pass is off from the next request on
    clearVisitor(req); // and this session forgets it now
    req.session.userId = userId;
    res.redirect(303, "/account");
  });

  app.get("/account", async (req, res) => {
    const userId = req.session.userId;
    if (!userId) return void res.status(401).send("<p>Sign in first.</p>");
    // What the visitor brought along: each promoted pass, its context and its visits.
    const [pass] = await passes.promotedTo(userId);
    const visits = pass ? await passes.logs(pass.uuid) : [];
    res.send(`<p>Account ${html(userId)}, invited by ${html(String(pass?.context?.invitedBy ?? "nobody"))}.</p>
<p>${visits.length} visits before you signed up.</p>`);
  });

  const onError: ErrorRequestHandler = (error, _req, res, next) => {
    if (!(error instanceof VisitorPassHttpError)) return next(error);
    res.status(error.status).send(`<h1>${error.status}</h1><p>${html(error.message)}</p>`);
  };
  app.use(onError);
  return app;
}
