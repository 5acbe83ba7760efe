// Typing what your app keeps in express-session, so that `isAuthenticated` and `authorize` read
// `req.session` with types instead of casts. The augmentation is global to the program: declare
// it once, in a file the compiler sees (any module; here the one that builds the app).
import express, { type Express } from "express";
import session from "express-session";
import type { VisitorPass } from "visitor-pass";
import { userIsVisitor, visitorAdmin, visitorPass } from "visitor-pass/express";

declare module "express-session" {
  interface SessionData {
    /** Who signed in (your own sign-in route sets it). */
    account?: { id: string; name: string; isStaff: boolean };
  }
}

export function createApp(passes: VisitorPass, sessionSecret: string): Express {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(session({ secret: sessionSecret, resave: false, saveUninitialized: false }));
  // Signed-in users are never turned into visitors by a link (onConflict: "keep"), and a
  // visitor's session lifetime applies only to someone who is not signed in.
  app.use(visitorPass(passes, { isAuthenticated: (req) => req.session.account != null }));

  app.post("/sign-in", (req, res, next) => {
    // …check req.body.name and req.body.password against your users…
    req.session.regenerate((error) => {
      if (error) return next(error);
      const name = String(req.body.name);
      req.session.account = { id: name, name, isStaff: name === "fred" };
      res.redirect(303, "/");
    });
  });
  app.get("/", (req, res) => {
    res.send(req.session.account ? `Signed in as ${req.session.account.name}` : "Anonymous");
  });
  app.get("/reference", userIsVisitor({ scope: "REFERENCE_REQUEST" }), (req, res) => {
    res.send(`Hello ${req.visitor!.firstName}`);
  });
  // Staff only: `authorize` is asked before the admin pages read anything.
  app.use(
    "/admin/visitors",
    visitorAdmin(passes, { authorize: (req) => req.session.account?.isStaff === true }),
  );
  return app;
}
