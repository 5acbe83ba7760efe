/**
 * visitor-pass on Fastify, in a few routes: Fred invites Ginger, who writes him a reference
 * through her link without an account; anyone else can ask for early access themselves.
 *
 *   npm run example:fastify     then open http://localhost:3001/
 *
 * Passes live in SQLite (visitor-pass.sqlite3 here) unless VISITOR_PASS_DATABASE_URL says otherwise.
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import escapeHtml from "escape-html";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
// In your app: from "visitor-pass" and "visitor-pass/fastify".
import {
  clearVisitor,
  closeGracefully,
  handleSignals,
  selfService,
  userIsVisitor,
  visitorPass,
} from "../../src/adapters/fastify/index.js";
import { createVisitorPass, VisitorAccessDenied, type VisitorPass } from "../../src/index.js";

/** The scope of Ginger's pass: the reference pages. */
export const REFERENCE = "REFERENCE_REQUEST";
/** The scope of the passes people ask for themselves. */
export const EARLY_ACCESS = "EARLY_ACCESS";

export interface ExampleOptions {
  /** The pass service, migrated. */
  passes: VisitorPass;
  /** Signs the session cookie (32+ characters). @default random: sessions end with the process */
  sessionSecret?: string;
}

export async function createApp({
  passes,
  sessionSecret,
}: ExampleOptions): Promise<FastifyInstance> {
  const references: { from: string; text: string }[] = [];
  const outbox: { to: string; link: string }[] = [];
  // A self-service pass is ready: a real app emails the link; this one keeps it on /outbox.
  passes.on("selfServiceVisitorCreated", (visitor) => {
    const link = passes.tokenise(String(visitor.context?.redirectTo ?? "/early-access"), visitor);
    outbox.push({ to: visitor.email, link });
  });

  const app = Fastify({ logger: false });
  // The order matters: cookies, the session, then visitor-pass (it depends on @fastify/session).
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: sessionSecret ?? randomBytes(32).toString("hex"),
    saveUninitialized: false,
    cookie: { secure: "auto", httpOnly: true, sameSite: "lax" },
  });
  await app.register(visitorPass, { passes });
  // The self-service form, where guards with `selfService: true` send people without a pass.
  await app.register(selfService, { passes, prefix: passes.config.selfServicePath });
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: 16 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  // Before the routes, so that they use it: a guard refusing someone throws VisitorAccessDenied.
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof VisitorAccessDenied) {
      return page(reply, "Visitors only", "<p>This page needs a visitor link.</p>", 403);
    }
    return reply.send(error);
  });

  app.get("/", (_request, reply) =>
    page(
      reply,
      "visitor-pass on Fastify",
      `<form method="post" action="/invite"><button>Invite Ginger to write Fred a reference</button></form>
<p><a href="/early-access">Early access</a> (ask for it yourself) · <a href="/outbox">Outbox</a></p>
<h2>References for Fred</h2>
${references.map((r) => `<blockquote>${escapeHtml(r.text)}<br>— ${escapeHtml(r.from)}</blockquote>`).join("") || "<p>None yet.</p>"}`,
    ),
  );

  app.post("/invite", async (request, reply) => {
    const ginger = await passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      lastName: "Rogers",
      scope: REFERENCE,
      context: { for: "Fred" },
    });
    const link = passes.tokenise(`${request.protocol}://${request.host}/reference`, ginger);
    return page(
      reply,
      "Invitation",
      `<p>A pass for ${escapeHtml(ginger.fullName)}. A real app emails her this link:</p>
<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`,
    );
  });

  // Ginger's two steps: the form, then the post that ends her visit.
  const onlyGinger = userIsVisitor({ scope: REFERENCE });
  app.get("/reference", { preHandler: onlyGinger }, (request, reply) =>
    page(
      reply,
      "Write a reference",
      `<p>Hello ${escapeHtml(request.visitor!.firstName)}, Fred asks you for a reference.</p>
<form method="post" action="/reference"><textarea name="text" required></textarea>
<button>Send</button></form>`,
    ),
  );
  app.post<{ Body: { text?: string } }>(
    "/reference",
    { preHandler: onlyGinger },
    (request, reply) => {
      const text = String(request.body?.text ?? "").trim();
      if (!text) return reply.redirect("/reference", 303);
      references.push({ from: request.visitor!.fullName, text });
      clearVisitor(request); // The final step: her link does not let this session in any more.
      return page(reply, "Thank you", "<p>Thank you. Your reference is on its way to Fred.</p>");
    },
  );

  // Anyone without a pass is sent to the self-service form, and back here by the emailed link.
  app.get(
    "/early-access",
    { preHandler: userIsVisitor({ scope: EARLY_ACCESS, selfService: true }) },
    (request, reply) =>
      page(reply, "Early access", `<p>Welcome, ${escapeHtml(request.visitor!.fullName)}.</p>`),
  );

  app.get("/outbox", (_request, reply) =>
    page(
      reply,
      "Outbox",
      outbox
        .map(
          (mail) =>
            `<p>To ${escapeHtml(mail.to)}: <a href="${escapeHtml(mail.link)}">your link</a></p>`,
        )
        .join("") || "<p>Empty.</p>",
    ),
  );
  return app;
}

function page(reply: FastifyReply, title: string, body: string, status = 200): FastifyReply {
  return reply
    .code(status)
    .type("text/html; charset=utf-8")
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    );
}

async function main(): Promise<void> {
  // No database option: VISITOR_PASS_DATABASE_URL if set, else sqlite:visitor-pass.sqlite3 here.
  const passes = createVisitorPass();
  await passes.migrate();
  const app = await createApp({ passes, sessionSecret: process.env.SESSION_SECRET });
  const port = Number(process.env.PORT ?? 3001);
  const address = await app.listen({ port, host: process.env.HOST ?? "localhost" });
  console.log(`visitor-pass on Fastify: ${address}/`);
  // On SIGTERM or SIGINT: stop taking connections, let the requests in flight finish (keep-alive
  // clients are told to go away), close the app, write the queued visit logs, exit.
  handleSignals(() => closeGracefully(app, passes));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
