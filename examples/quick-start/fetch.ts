// Save as app.ts in a project whose package.json says "type": "module" (ESM: this file uses
// top-level await), then run: VISITOR_PASS_SECRET=$(openssl rand -hex 32) npx tsx app.ts
import { createServer } from "node:http";
import { getRequestListener } from "@hono/node-server"; // Node's requests as Web Requests
import { createVisitorPass } from "visitor-pass";
import {
  clearVisitor,
  closeGracefully,
  handleSignals,
  userIsVisitor,
  visitorPassFetch,
} from "visitor-pass/fetch";

const secret = process.env.VISITOR_PASS_SECRET;
if (!secret) throw new Error("Set VISITOR_PASS_SECRET (32+ random characters) to seal cookies.");
const port = Number(process.env.PORT ?? 3000);
const site = process.env.SITE_URL ?? `http://localhost:${port}`; // where the links point
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const html = (body: string, status = 200) =>
  new Response(body, { status, headers: { "Content-Type": "text/html; charset=utf-8" } });

const passes = createVisitorPass(); // no I/O yet; sqlite:visitor-pass.sqlite3 by default
await passes.migrate(); // creates or updates its tables; safe at every start
const vp = visitorPassFetch(passes, { secret }); // the visitor in an encrypted cookie
// Ginger's pages: only visitors whose pass has this scope get in; each visit is logged.
const onlyReferees = userIsVisitor({ scope: "REFERENCE_REQUEST" });

async function app(request: Request, clientAddress?: string): Promise<Response> {
  const { pathname } = new URL(request.url);
  const guard = pathname === "/reference" ? onlyReferees : undefined;
  const result = await vp.handle(request, { guard, clientAddress });
  if (result.kind === "respond") {
    // A refusal (403, 503 while the store fails, …) as your page; keep visitor-pass's headers.
    if (!result.error) return result.response; // a bad token, the landing's redirect
    const page = html(`<h1>${result.error.status}</h1><p>${escapeHtml(result.error.message)}</p>`);
    result.response.headers.forEach((value, name) => {
      if (name !== "content-type" && name !== "content-length") page.headers.append(name, value);
    });
    return new Response(page.body, { status: result.error.status, headers: page.headers });
  }
  const { finish, visitor } = result;
  const route = `${request.method} ${pathname}`;
  // Fred asks (in your app, a signed-in user's form): a pass for Ginger, and her link.
  if (route === "GET /") {
    return finish(html(`<form method="post" action="/ask"><button>Ask Ginger</button></form>`));
  }
  if (route === "POST /ask") {
    const ginger = await passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      scope: "REFERENCE_REQUEST",
      context: { requestedBy: "fred" },
      expiresAt: new Date(Date.now() + 7 * 24 * 3600 * 1000), // default: tokenExpiry from now
    });
    const link = passes.tokenise(`${site}/reference`, ginger);
    console.log(`Send Ginger this link: ${link}`); // …?vuid=<uuid>; in your app, email it
    return finish(new Response(null, { status: 303, headers: { Location: "/" } }));
  }
  if (route === "GET /reference") {
    return finish(
      html(`<p>Hello ${escapeHtml(visitor!.firstName)}, Fred asks you for a reference.</p>
<form method="post"><textarea name="text"></textarea><button>Send</button></form>`),
    );
  }
  if (route === "POST /reference") {
    // …save (await request.formData()).get("text")…
    clearVisitor(result); // the final step: this session loses its access at once
    // POST → 303 → page: Back does not resubmit.
    return finish(new Response(null, { status: 303, headers: { Location: "/thanks" } }));
  }
  if (route === "GET /thanks") return finish(html("<p>Thank you!</p>"));
  return finish(new Response("Not found", { status: 404 }));
}

const listener = getRequestListener((request, env) =>
  app(
    request,
    (env as { incoming: { socket: { remoteAddress?: string } } }).incoming.socket.remoteAddress,
  ),
);
const server = createServer(listener).listen(port, () => console.log(`Listening on ${site}`));
// On SIGTERM/SIGINT: stop accepting, finish requests, write the visit logs, close the store.
handleSignals(() => closeGracefully(server, passes));
