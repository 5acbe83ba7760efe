// Save as app.ts in a project whose package.json says "type": "module" (ESM: this file uses
// top-level await), then run: SESSION_SECRET=$(openssl rand -hex 32) npx tsx app.ts
import express, { type ErrorRequestHandler } from "express";
import session from "express-session";
import { createVisitorPass, VisitorPassHttpError } from "visitor-pass";
import {
  clearVisitor,
  closeGracefully,
  handleSignals,
  userIsVisitor,
  visitorPass,
} from "visitor-pass/express";

const secret = process.env.SESSION_SECRET;
if (!secret) throw new Error("Set SESSION_SECRET (a long random string) to sign session cookies.");
const port = Number(process.env.PORT ?? 3000);
const site = process.env.SITE_URL ?? `http://localhost:${port}`; // where the links point
const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const passes = createVisitorPass(); // no I/O yet; sqlite:visitor-pass.sqlite3 by default
await passes.migrate(); // creates or updates its tables; safe at every start

const app = express();
app.use(express.urlencoded({ extended: false }));
app.use(session({ secret, resave: false, saveUninitialized: false }));
app.use(visitorPass(passes)); // after the session: sets req.visitor and req.isVisitor

// Fred asks (in your app, a signed-in user's form): a pass for Ginger, and her link.
app.get("/", (_req, res) => {
  res.send(`<form method="post" action="/ask"><button>Ask Ginger for a reference</button></form>`);
});
app.post("/ask", async (_req, res) => {
  const visitor = await passes.create({
    email: "ginger@example.org",
    firstName: "Ginger",
    scope: "REFERENCE_REQUEST",
    context: { requestedBy: "fred" },
    expiresAt: new Date(Date.now() + 7 * 24 * 3600 * 1000), // default: tokenExpiry from now
  });
  const link = passes.tokenise(`${site}/reference`, visitor);
  console.log(`Send Ginger this link: ${link}`); // …?vuid=<uuid>; in your app, email it
  res.redirect(303, "/");
});

// Ginger's pages: only visitors whose pass has this scope get in; each visit is logged.
const onlyReferees = userIsVisitor({ scope: "REFERENCE_REQUEST" });
app.get("/reference", onlyReferees, (req, res) => {
  res.send(`<p>Hello ${html(req.visitor!.firstName)}, Fred asks you for a reference.</p>
<form method="post"><textarea name="text"></textarea><button>Send</button></form>`);
});
app.post("/reference", onlyReferees, (req, res) => {
  // …save req.body.text…
  clearVisitor(req); // the final step: this session loses its access at once
  res.redirect(303, "/thanks"); // POST → 303 → page: Back does not resubmit
});
app.get("/thanks", (_req, res) => {
  res.send("<p>Thank you!</p>");
});

// Refusals reach the error handler: 403 VisitorAccessDenied, 503 VisitorPassUnavailable, …
const onError: ErrorRequestHandler = (error, _req, res, next) => {
  if (!(error instanceof VisitorPassHttpError)) return next(error);
  res.status(error.status).send(`<h1>${error.status}</h1><p>${html(error.message)}</p>`);
};
app.use(onError);

const server = app.listen(port, () => console.log(`Listening on ${site}`));
// On SIGTERM/SIGINT: stop accepting, finish requests, write the visit logs, close the store.
handleSignals(() => closeGracefully(server, passes));
