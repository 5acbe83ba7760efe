/**
 * One of several identical app processes behind a load balancer: passes in PostgreSQL (or
 * MySQL/MariaDB), sessions in Redis. Whichever process a request lands on, it sees the same
 * visitor, and a pass deactivated anywhere stops working everywhere on the next request.
 *
 * `createApp` builds the Express app from what the processes share; `server.ts` runs it.
 */
import express, { type ErrorRequestHandler, type Express } from "express";
import session, { type Store } from "express-session";
// In your app: from "visitor-pass/express".
import { userIsVisitor, visitorPass } from "../../src/adapters/express/index.js";
import type { VisitorPass } from "../../src/index.js";

/** The scope of the passes this example's guarded page admits. */
export const REFERENCE = "REFERENCE_REQUEST";

export interface ScaleOutOptions {
  /** The pass service on the shared database, migrated. */
  passes: VisitorPass;
  /** The shared session store (connect-redis's `RedisStore` in `server.ts`). */
  sessionStore: Store;
  /** Signs the session cookie: the same secret in every process, or cookies fail elsewhere. */
  sessionSecret: string;
  /**
   * Express's `trust proxy` setting: which hops in front of the app to believe about the client
   * address (`X-Forwarded-For`) and protocol. Visit logs record `req.ip`, so without it every
   * visit is logged with the balancer's address.
   * @default "loopback"
   */
  trustProxy?: boolean | number | string;
}

export function createApp({
  passes,
  sessionStore,
  sessionSecret,
  trustProxy = "loopback",
}: ScaleOutOptions): Express {
  const app = express();
  app.set("trust proxy", trustProxy);
  app.use(
    session({
      store: sessionStore,
      secret: sessionSecret,
      name: "sid",
      resave: false,
      saveUninitialized: false,
      // Secure when the request came over HTTPS, as told by a trusted balancer.
      cookie: { httpOnly: true, sameSite: "lax", secure: "auto" },
    }),
  );
  app.use(visitorPass(passes));

  // Public: who this process thinks you are.
  app.get("/whoami", (req, res) => {
    res.json({ visitor: req.visitor?.serialize() ?? null, pid: process.pid });
  });

  // Guarded: visitors holding a REFERENCE_REQUEST pass only.
  app.get("/reference", userIsVisitor({ scope: REFERENCE }), (req, res) => {
    res.json({ visitor: req.visitor!.serialize(), pid: process.pid });
  });

  const errors: ErrorRequestHandler = (error, _req, res, _next) => {
    // visitor-pass's HTTP errors (403, 400, 503) carry a status and a message safe to show.
    const status = typeof error?.status === "number" ? error.status : 500;
    if (status === 500) console.error(error);
    const message = status === 500 ? "Server error." : String(error.message);
    res.status(status).json({ error: message, pid: process.pid });
  };
  app.use(errors);
  return app;
}
