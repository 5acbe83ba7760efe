// Hono behind a proxy that ends TLS: the app sees http://… URLs, so say that the visitor's cookie
// is for https only. It is then named __Host-visitor_pass and sent with Secure.
import { Hono } from "hono";
import type { VisitorPass } from "visitor-pass";
import { userIsVisitor, visitorPass } from "visitor-pass/hono";

export function createApp(passes: VisitorPass, secret: string): Hono {
  const app = new Hono();
  app.use(visitorPass(passes, { secret, secure: true }));
  app.get("/reference", userIsVisitor({ scope: "REFERENCE_REQUEST" }), (c) =>
    c.text(`Hello ${c.var.visitor!.firstName}`),
  );
  return app;
}
