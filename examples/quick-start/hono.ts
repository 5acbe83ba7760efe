// Save as app.ts in a project whose package.json says "type": "module" (ESM: this file uses
// top-level await), then run: VISITOR_PASS_SECRET=$(openssl rand -hex 32) npx tsx app.ts
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { html } from "hono/html";
import { HTTPException } from "hono/http-exception";
import { createVisitorPass, VisitorPassHttpError } from "visitor-pass";
import {
  clearVisitor,
  closeGracefully,
  handleSignals,
  selfService,
  userIsVisitor,
  visitorPass,
} from "visitor-pass/hono";

const secret = process.env.VISITOR_PASS_SECRET;
if (!secret) throw new Error("Set VISITOR_PASS_SECRET (32+ random characters) to seal cookies.");
const port = Number(process.env.PORT ?? 3000);
const site = process.env.SITE_URL ?? `http://localhost:${port}`; // where the links point

const passes = createVisitorPass(); // no I/O yet; sqlite:visitor-pass.sqlite3 by default
await passes.migrate(); // creates or updates its tables; safe at every start

const app = new Hono();
app.use(visitorPass(passes, { secret })); // before the routes: c.var.visitor, c.var.isVisitor
app.route(passes.config.selfServicePath, selfService(passes)); // "/visitors"

// Fred asks (in your app, a signed-in user's form): a pass for Ginger, and her link.
app.get("/", (c) =>
  c.html(`<form method="post" action="/ask"><button>Ask Ginger for a reference</button></form>`),
);
app.post("/ask", async (c) => {
  const visitor = await passes.create({
    email: "ginger@example.org",
    firstName: "Ginger",
    scope: "REFERENCE_REQUEST",
    context: { requestedBy: "fred" },
    expiresAt: new Date(Date.now() + 7 * 24 * 3600 * 1000), // default: tokenExpiry from now
  });
  const link = passes.tokenise(`${site}/reference`, visitor);
  console.log(`Send Ginger this link: ${link}`); // …?vuid=<uuid>; in your app, email it
  return c.redirect("/", 303);
});

// Ginger's pages: only visitors whose pass has this scope get in; each visit is logged.
const onlyReferees = userIsVisitor({ scope: "REFERENCE_REQUEST" });
app.get("/reference", onlyReferees, (c) =>
  c.html(html`<p>Hello ${c.var.visitor!.firstName}, Fred asks you for a reference.</p>
<form method="post"><textarea name="text"></textarea><button>Send</button></form>`),
);
app.post("/reference", onlyReferees, (c) => {
  // …save (await c.req.parseBody()).text…
  clearVisitor(c); // the final step: this session loses its access at once
  return c.redirect("/thanks", 303); // POST → 303 → page: Back does not resubmit
});
app.get("/thanks", (c) => c.html("<p>Thank you!</p>"));

// A refusal is an HTTPException (403, 503 while the store fails) caused by the package's error.
app.onError((error, c) => {
  if (error instanceof HTTPException && error.cause instanceof VisitorPassHttpError) {
    return c.html(html`<h1>${error.status}</h1><p>${error.message}</p>`, error.status);
  }
  if (error instanceof HTTPException) return error.getResponse();
  console.error(error);
  return c.text("Internal Server Error", 500);
});

const server = serve({ fetch: app.fetch, port }, () => console.log(`Listening on ${site}`));
// On SIGTERM/SIGINT: stop accepting, finish requests, write the visit logs, close the store.
handleSignals(() => closeGracefully(server, passes));
