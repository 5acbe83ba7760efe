// An expired or used-up link lands on a page offering a new one. The new link is sent through
// `sendLink` to the address on file (never shown on the page, never to an address typed in),
// built on the configured origin, with a new token: the old link stays dead.
import express, { type ErrorRequestHandler, type Express } from "express";
import session from "express-session";
import {
  createVisitorPass,
  type LinkMessage,
  type VisitorPass,
  VisitorPassHttpError,
} from "visitor-pass";
import { userIsVisitor, visitorPass } from "visitor-pass/express";

export const SCOPE = "REFERENCE_REQUEST";
const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Passes whose expired links offer a fresh one: every pass of `SCOPE` (and any pass created with
 * `freshLinks: true`). `send` is the app's mailer: it gets the pass and the new link's URL.
 */
export function createPasses(
  send: (message: LinkMessage) => Promise<void>,
  options: { database?: string; baseUrl: string },
): VisitorPass {
  return createVisitorPass({
    database: options.database,
    tokenExpiry: 3 * 24 * 3600, // each link (the fresh ones too) works for three days
    sendLink: send, // to message.visitor.email, and nowhere else
    freshLinks: { scopes: [SCOPE], baseUrl: options.baseUrl },
  });
}

export function createApp(passes: VisitorPass, sessionSecret: string): Express {
  const app = express();
  app.use(session({ secret: sessionSecret, resave: false, saveUninitialized: false }));
  // The offer page and its form's POST are answered here, before any route.
  app.use(visitorPass(passes));

  app.get("/reference", userIsVisitor({ scope: SCOPE }), (req, res) => {
    res.send(`<p>Hello ${html(req.visitor!.firstName)}, Fred asks you for a reference.</p>`);
  });

  const onError: ErrorRequestHandler = (error, _req, res, next) => {
    if (!(error instanceof VisitorPassHttpError)) return next(error);
    res.status(error.status).send(`<h1>${error.status}</h1><p>${html(error.message)}</p>`);
  };
  app.use(onError);
  return app;
}
