// Save as app.ts in a project whose package.json says "type": "module" (ESM: this file uses
// top-level await), then run: SESSION_SECRET=$(openssl rand -hex 32) npx tsx app.ts
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import Fastify from "fastify";
import { createVisitorPass, VisitorPassHttpError } from "visitor-pass";
import {
  clearVisitor,
  closeGracefully,
  handleSignals,
  selfService,
  userIsVisitor,
  visitorPass,
} from "visitor-pass/fastify";

const secret = process.env.SESSION_SECRET;
if (!secret) throw new Error("Set SESSION_SECRET (32+ random characters) to sign session cookies.");
const port = Number(process.env.PORT ?? 3000);
const site = process.env.SITE_URL ?? `http://localhost:${port}`; // where the links point
const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const passes = createVisitorPass(); // no I/O yet; sqlite:visitor-pass.sqlite3 by default
await passes.migrate(); // creates or updates its tables; safe at every start

const app = Fastify();
// Refusals are thrown: 403 VisitorAccessDenied, 503 VisitorPassUnavailable, … Set the handler
// before the routes: a Fastify route keeps the handler in force where it was declared.
app.setErrorHandler((error, _request, reply) => {
  if (!(error instanceof VisitorPassHttpError)) return reply.send(error); // Fastify's default
  const page = `<h1>${error.status}</h1><p>${html(error.message)}</p>`;
  return reply.code(error.status).type("text/html; charset=utf-8").send(page);
});
await app.register(fastifyCookie);
await app.register(fastifySession, {
  secret, // at least 32 characters
  saveUninitialized: false,
  cookie: { secure: "auto" }, // @fastify/session's cookies are Secure by default: none over http
});
// Form posts (Fastify itself parses JSON only; @fastify/formbody does the same).
app.addContentTypeParser(
  "application/x-www-form-urlencoded",
  { parseAs: "string", bodyLimit: 16 * 1024 },
  (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
);
await app.register(visitorPass, { passes }); // request.visitor, request.isVisitor
await app.register(selfService, { passes, prefix: passes.config.selfServicePath }); // "/visitors"

// Fred asks (in your app, a signed-in user's form): a pass for Ginger, and her link.
app.get("/", (_request, reply) =>
  reply
    .type("text/html; charset=utf-8")
    .send(`<form method="post" action="/ask"><button>Ask Ginger for a reference</button></form>`),
);
app.post("/ask", async (_request, reply) => {
  const visitor = await passes.create({
    email: "ginger@example.org",
    firstName: "Ginger",
    scope: "REFERENCE_REQUEST",
    context: { requestedBy: "fred" },
    expiresAt: new Date(Date.now() + 7 * 24 * 3600 * 1000), // default: tokenExpiry from now
  });
  const link = passes.tokenise(`${site}/reference`, visitor);
  console.log(`Send Ginger this link: ${link}`); // …?vuid=<uuid>; in your app, email it
  return reply.redirect("/", 303);
});

// Ginger's pages: only visitors whose pass has this scope get in; each visit is logged.
const onlyReferees = userIsVisitor({ scope: "REFERENCE_REQUEST" });
app.get("/reference", { preHandler: onlyReferees }, (request, reply) =>
  reply.type("text/html; charset=utf-8").send(
    `<p>Hello ${html(request.visitor!.firstName)}, Fred asks you for a reference.</p>
<form method="post"><textarea name="text"></textarea><button>Send</button></form>`,
  ),
);
app.post("/reference", { preHandler: onlyReferees }, (request, reply) => {
  // …save request.body.text…
  clearVisitor(request); // the final step: this session loses its access at once
  return reply.redirect("/thanks", 303); // POST → 303 → page: Back does not resubmit
});
app.get("/thanks", (_request, reply) =>
  reply.type("text/html; charset=utf-8").send("<p>Thank you!</p>"),
);

await app.listen({ port });
console.log(`Listening on ${site}`);
// On SIGTERM/SIGINT: stop accepting, finish requests, write the visit logs, close the store.
handleSignals(() => closeGracefully(app, passes));
