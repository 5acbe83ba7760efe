/**
 * visitor-pass on nothing but Web `Request` and `Response`, served by `node:http`: Fred invites
 * Ginger, who writes him a reference through her link without an account.
 *
 *   npm run example:fetch     then open http://localhost:3003/
 *
 * The same `handler` runs unchanged wherever a `Request` comes in (Bun, Deno, workers).
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { getRequestListener } from "@hono/node-server";
import escapeHtml from "escape-html";
// In your app: from "visitor-pass" and "visitor-pass/fetch".
import { clearVisitor, visitorPassFetch } from "../../src/adapters/fetch/index.js";
import { createVisitorPass, type VisitorPass } from "../../src/index.js";

const onlyGinger = { scope: "REFERENCE_REQUEST" }; // One object for every request: checked once.

export function createHandler(passes: VisitorPass, secret = randomBytes(32).toString("hex")) {
  const vp = visitorPassFetch(passes, { secret });
  const references: { from: string; text: string }[] = [];
  return async (request: Request, clientAddress?: string): Promise<Response> => {
    const { pathname } = new URL(request.url);
    const guard = pathname === "/reference" ? onlyGinger : undefined;
    const result = await vp.handle(request, { guard, clientAddress });
    // A bad token, the landing's redirect off its token, a refusal: visitor-pass answers.
    if (result.kind === "respond") return result.response;
    const { visitor, finish } = result;
    if (pathname === "/" && request.method === "GET") {
      const list = references
        .map((r) => `<blockquote>${escapeHtml(r.text)}<br>— ${escapeHtml(r.from)}</blockquote>`)
        .join("");
      return finish(
        page(`<form method="post" action="/invite"><button>Invite Ginger</button></form>
<h2>References for Fred</h2>${list || "<p>None yet.</p>"}`),
      );
    }
    if (pathname === "/invite" && request.method === "POST") {
      const ginger = await passes.create({
        email: "ginger@example.org",
        firstName: "Ginger",
        lastName: "Rogers",
        scope: onlyGinger.scope,
      });
      const link = escapeHtml(passes.tokenise(`${new URL(request.url).origin}/reference`, ginger));
      return finish(
        page(`<p>A real app emails Ginger this link: <a href="${link}">${link}</a></p>`),
      );
    }
    if (pathname === "/reference" && request.method === "GET") {
      return finish(
        page(`<p>Hello ${escapeHtml(visitor!.firstName)}, Fred asks you for a reference.</p>
<form method="post"><textarea name="text" required></textarea><button>Send</button></form>`),
      );
    }
    if (pathname === "/reference" && request.method === "POST") {
      const text = String((await request.formData()).get("text") ?? "").trim();
      references.push({ from: visitor!.fullName, text });
      clearVisitor(result); // The final step: her link does not let this browser in any more.
      return finish(page("<p>Thank you. Your reference is on its way to Fred.</p>"));
    }
    return finish(new Response("Not found", { status: 404 }));
  };
}

function page(body: string): Response {
  return new Response(`<!doctype html><meta charset="utf-8"><title>Fred</title>${body}`, {
    headers: { "Content-Type": "text/html; charset=utf-8" },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const passes = createVisitorPass();
  await passes.migrate();
  const handler = createHandler(passes, process.env.VISITOR_PASS_SECRET);
  // Node's request as a Web Request and back; the socket's address is the client's.
  const listener = getRequestListener(
    (request, env: { incoming: { socket: { remoteAddress?: string } } }) =>
      handler(request, env.incoming.socket.remoteAddress),
  );
  const server = createServer(listener).listen(Number(process.env.PORT ?? 3003), "localhost", () =>
    console.log(
      `visitor-pass on fetch: http://localhost:${(server.address() as AddressInfo).port}/`,
    ),
  );
}
