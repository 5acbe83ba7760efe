// A pass for one resource: Ginger may see reference 42 and nothing else. The pass carries the
// reference in its context; the guard's `match` compares it with the route's parameter, and
// every other reference answers 403, as a pass of another scope would.
import express, { type ErrorRequestHandler, type Express } from "express";
import session from "express-session";
import {
  createVisitorPass,
  type VisitorPass,
  VisitorPassHttpError,
  type VisitorPassLogger,
} from "visitor-pass";
import { userIsVisitor, visitorPass } from "visitor-pass/express";

export const SCOPE = "REFERENCE_REQUEST";
const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `logger: { ...console }` shows the debug lines too: who was admitted, refused and why. */
export function createPasses(database?: string, logger?: VisitorPassLogger): VisitorPass {
  return createVisitorPass({ database, logger });
}

/** Ginger's link to reference 42: the reference it is for is in the pass's context. */
export async function inviteFor(
  passes: VisitorPass,
  site: string,
  referenceId: string,
): Promise<string> {
  const visitor = await passes.create({
    email: "ginger@example.org",
    firstName: "Ginger",
    scope: SCOPE,
    context: { referenceId },
  });
  return passes.tokenise(`${site}/references/${referenceId}`, visitor);
}

export function createApp(passes: VisitorPass, sessionSecret: string): Express {
  const app = express();
  app.use(session({ secret: sessionSecret, resave: false, saveUninitialized: false }));
  app.use(visitorPass(passes));

  // One line: a pass of this scope, and only for the reference its context names.
  const ownReference = userIsVisitor({
    scope: SCOPE,
    match: (visitor, request) => visitor.context?.referenceId === request.params.id,
  });
  app.get("/references/:id", ownReference, (req, res) => {
    res.send(
      `<p>Hello ${html(req.visitor!.firstName)}, this is reference ${html(String(req.params.id))}.</p>`,
    );
  });

  const onError: ErrorRequestHandler = (error, _req, res, next) => {
    if (!(error instanceof VisitorPassHttpError)) return next(error);
    res.status(error.status).send(`<h1>${error.status}</h1><p>${html(error.message)}</p>`);
  };
  app.use(onError);
  return app;
}
