// Sessions in Redis (connect-redis) or PostgreSQL (connect-pg-simple) instead of express-session's
// MemoryStore, which forgets every visitor at a restart and knows them in one process only.
import connectPgSimple from "connect-pg-simple";
import { RedisStore } from "connect-redis";
import express, { type Express, type RequestHandler } from "express";
import session, { type Store } from "express-session";
import { createClient } from "redis";
import type { VisitorPass } from "visitor-pass";
import { userIsVisitor, visitorPass } from "visitor-pass/express";

export interface Sessions {
  middleware: RequestHandler;
  /** On shutdown, after the server has closed. */
  close(): Promise<void>;
}

function sessions(store: Store, secret: string): RequestHandler {
  return session({
    store,
    secret, // the same in every process that shares the store
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: "lax", secure: "auto" },
  });
}

/** Sessions in Redis: REDIS_URL such as redis://localhost:6379. */
export async function redisSessions(url: string, secret: string): Promise<Sessions> {
  const client = createClient({ url });
  client.on("error", (error) => console.error("Redis:", error.message)); // it reconnects
  await client.connect();
  const store = new RedisStore({ client, prefix: "app:sess:" });
  return { middleware: sessions(store, secret), close: async () => void (await client.close()) };
}

/** Sessions in PostgreSQL, in a `session` table it creates: DATABASE_URL such as postgres://… */
export function postgresSessions(conString: string, secret: string): Sessions {
  const PgStore = connectPgSimple(session);
  const store = new PgStore({ conString, createTableIfMissing: true });
  return { middleware: sessions(store, secret), close: async () => store.close() };
}

export function createApp(passes: VisitorPass, sessions: Sessions): Express {
  const app = express();
  app.set("trust proxy", "loopback"); // your proxy's addresses: see "Behind a proxy"
  app.use(sessions.middleware);
  app.use(visitorPass(passes)); // after the session, as always
  app.get("/reference", userIsVisitor({ scope: "REFERENCE_REQUEST" }), (req, res) => {
    res.send(`Hello ${req.visitor!.firstName}`);
  });
  return app;
}
