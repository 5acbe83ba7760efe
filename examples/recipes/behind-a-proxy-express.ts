// Express behind one proxy that ends TLS (nginx, a load balancer, a platform's router): believe
// its X-Forwarded-* headers, so that the session cookie is Secure and visits are logged with the
// visitor's address rather than the proxy's.
import express, { type Express } from "express";
import session from "express-session";
import type { VisitorPass } from "visitor-pass";
import { userIsVisitor, visitorPass } from "visitor-pass/express";

export function createApp(passes: VisitorPass, sessionSecret: string): Express {
  const app = express();
  // One proxy in front: req.ip is the address it forwards, req.secure its X-Forwarded-Proto.
  // Never `true` where clients can reach the app directly: they could forge X-Forwarded-For.
  app.set("trust proxy", 1);
  app.use(
    session({
      secret: sessionSecret,
      resave: false,
      saveUninitialized: false,
      // Sent only over https (as the proxy says the request came): no cookie over plain http.
      cookie: { secure: true, httpOnly: true, sameSite: "lax" },
    }),
  );
  app.use(visitorPass(passes)); // visit logs record req.ip: the forwarded address
  app.get("/reference", userIsVisitor({ scope: "REFERENCE_REQUEST" }), (req, res) => {
    res.send(`Hello ${req.visitor!.firstName}`);
  });
  return app;
}
