/**
 * visitor-pass on Hono, in a few routes: Fred invites Ginger, who writes him a reference
 * through her link without an account; anyone else can ask for early access themselves.
 *
 *   npm run example:hono     then open http://localhost:3002/
 *
 * Passes live in SQLite (visitor-pass.sqlite3 here) unless VISITOR_PASS_DATABASE_URL says otherwise.
 * Hono has no session: the visitor is kept in an encrypted cookie (keyed from VISITOR_PASS_SECRET).
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { html } from "hono/html";
import { HTTPException } from "hono/http-exception";
// In your app: from "visitor-pass" and "visitor-pass/hono".
import {
  clearVisitor,
  closeGracefully,
  handleSignals,
  selfService,
  userIsVisitor,
  visitorPass,
} from "../../src/adapters/hono/index.js";
import { createVisitorPass, VisitorAccessDenied, type VisitorPass } from "../../src/index.js";

/** The scope of Ginger's pass: the reference pages. */
export const REFERENCE = "REFERENCE_REQUEST";
/** The scope of the passes people ask for themselves. */
export const EARLY_ACCESS = "EARLY_ACCESS";

export interface ExampleOptions {
  /** The pass service, migrated. */
  passes: VisitorPass;
  /** Signs the visitor cookie (32+ characters). @default random: stashes end with the process */
  secret?: string;
}

type Html = ReturnType<typeof html>;

export function createApp({ passes, secret }: ExampleOptions): Hono {
  const references: { from: string; text: string }[] = [];
  const outbox: { to: string; link: string }[] = [];
  // A self-service pass is ready: a real app emails the link; this one keeps it on /outbox.
  passes.on("selfServiceVisitorCreated", (visitor) => {
    const link = passes.tokenise(String(visitor.context?.redirectTo ?? "/early-access"), visitor);
    outbox.push({ to: visitor.email, link });
  });

  const app = new Hono();
  // Before the routes it serves: recognises ?vuid=… links, keeps the visitor in an encrypted cookie.
  app.use(visitorPass(passes, { secret: secret ?? randomBytes(32).toString("hex") }));
  // The self-service form, where guards with `selfService: true` send people without a pass.
  app.route(passes.config.selfServicePath, selfService(passes));

  app.get("/", (c) =>
    page(
      c,
      "visitor-pass on Hono",
      html`<form method="post" action="/invite"><button>Invite Ginger to write Fred a reference</button></form>
<p><a href="/early-access">Early access</a> (ask for it yourself) · <a href="/outbox">Outbox</a></p>
<h2>References for Fred</h2>
${references.length ? references.map((r) => html`<blockquote>${r.text}<br>— ${r.from}</blockquote>`) : html`<p>None yet.</p>`}`,
    ),
  );

  app.post("/invite", async (c) => {
    const ginger = await passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      lastName: "Rogers",
      scope: REFERENCE,
      context: { for: "Fred" },
    });
    const link = passes.tokenise(`${new URL(c.req.url).origin}/reference`, ginger);
    return page(
      c,
      "Invitation",
      html`<p>A pass for ${ginger.fullName}. A real app emails her this link:</p>
<p><a href="${link}">${link}</a></p>`,
    );
  });

  // Ginger's two steps: the form, then the post that ends her visit.
  const onlyGinger = userIsVisitor({ scope: REFERENCE });
  app.get("/reference", onlyGinger, (c) =>
    page(
      c,
      "Write a reference",
      html`<p>Hello ${c.var.visitor!.firstName}, Fred asks you for a reference.</p>
<form method="post" action="/reference"><textarea name="text" required></textarea>
<button>Send</button></form>`,
    ),
  );
  app.post("/reference", onlyGinger, async (c) => {
    const body = await c.req.parseBody();
    const text = String(body.text ?? "").trim();
    if (!text) return c.redirect("/reference", 303);
    references.push({ from: c.var.visitor!.fullName, text });
    clearVisitor(c); // The final step: her link does not let this browser in any more.
    return page(c, "Thank you", html`<p>Thank you. Your reference is on its way to Fred.</p>`);
  });

  // Anyone without a pass is sent to the self-service form, and back here by the emailed link.
  app.get("/early-access", userIsVisitor({ scope: EARLY_ACCESS, selfService: true }), (c) =>
    page(c, "Early access", html`<p>Welcome, ${c.var.visitor!.fullName}.</p>`),
  );

  app.get("/outbox", (c) =>
    page(
      c,
      "Outbox",
      outbox.length
        ? outbox.map((mail) => html`<p>To ${mail.to}: <a href="${mail.link}">your link</a></p>`)
        : html`<p>Empty.</p>`,
    ),
  );

  // A guard refusing someone throws an HTTPException whose cause is VisitorAccessDenied.
  app.onError((error, c) => {
    const cause = error instanceof HTTPException ? error.cause : error;
    if (cause instanceof VisitorAccessDenied) {
      return page(c, "Visitors only", html`<p>This page needs a visitor link.</p>`, 403);
    }
    if (error instanceof HTTPException) return error.getResponse();
    console.error(error);
    return page(c, "Something went wrong", html`<p>Please try again.</p>`, 500);
  });
  return app;
}

function page(c: Context, title: string, body: Html | Html[], status: 200 | 403 | 500 = 200) {
  return c.html(
    html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`,
    status,
  );
}

async function main(): Promise<void> {
  // No database option: VISITOR_PASS_DATABASE_URL if set, else sqlite:visitor-pass.sqlite3 here.
  const passes = createVisitorPass();
  await passes.migrate();
  const app = createApp({ passes, secret: process.env.VISITOR_PASS_SECRET });
  const port = Number(process.env.PORT ?? 3002);
  const hostname = process.env.HOST ?? "localhost";
  // The port it got, when PORT=0 asked for any free one.
  const server = serve({ fetch: app.fetch, port, hostname }, (info) =>
    console.log(`visitor-pass on Hono: http://${hostname}:${info.port}/`),
  );
  // On SIGTERM or SIGINT: stop taking connections, let the requests in flight finish (keep-alive
  // clients are told to go away), write the queued visit logs, close the database, exit.
  handleSignals(() => closeGracefully(server, passes));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
