/**
 * The Fastify app under load, run in its own process like express-app.mjs; BENCH_MODE picks the
 * variant; it prints "READY <port>" once listening.
 *
 * - `plain`: @fastify/cookie and @fastify/session (its MemoryStore, as the Express app's
 *   express-session) and a route that reads the session: the baseline.
 * - `visitor`: the same app with the visitorPass plugin; the route is guarded by the
 *   `userIsVisitor()` preHandler and each visit logged.
 *
 * Plain JavaScript against dist/, so that nothing but the package itself runs in the measured
 * process. Both answer `GET /start` (plain: creates a session) and `GET /reference`; the visitor
 * app admits on `GET /reference?vuid=…`.
 */
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import Fastify from "fastify";
// The built package, as users run it (npm run bench builds first).
import { userIsVisitor, visitorPass } from "../../dist/adapters/fastify/index.js";
import { createVisitorPass } from "../../dist/index.js";

const mode = process.env.BENCH_MODE ?? "plain";
const database = process.env.BENCH_DATABASE ?? "sqlite::memory:";

const app = Fastify({ logger: false });
await app.register(fastifyCookie);
await app.register(fastifySession, {
  secret: "bench-secret-bench-secret-bench-secret",
  saveUninitialized: false,
  // Plain http on loopback: a Secure cookie would never be sent back.
  cookie: { secure: false, httpOnly: true, sameSite: "lax" },
});
// The process's CPU time so far (as in express-app.mjs).
app.get("/bench/cpu", async () => process.cpuUsage());

let passes = null;
if (mode === "plain") {
  app.get("/start", async (request) => {
    request.session.set("user", "ginger");
    return "ok";
  });
  app.get("/reference", async (request) => ({ who: request.session.get("user") ?? null }));
} else {
  passes = createVisitorPass({
    database,
    env: {},
    passCache: { 0: false, listen: "listen" }[process.env.BENCH_PASS_CACHE ?? ""] ?? true,
  });
  await passes.migrate();
  await app.register(visitorPass, { passes });
  app.get(
    "/reference",
    {
      preHandler: userIsVisitor({
        scope: "REFERENCE_REQUEST",
        logVisit: process.env.BENCH_LOG !== "0",
      }),
    },
    async (request) => ({ who: request.visitor?.uuid ?? null }),
  );
  app.post("/bench/pass", async () => {
    const visitor = await passes.create({
      email: "ginger@example.org",
      scope: "REFERENCE_REQUEST",
      expiresAt: null,
    });
    return { uuid: visitor.uuid };
  });
  app.get("/bench/logs", async (request) => ({
    count: (await passes.logs(String(request.query.uuid))).length,
  }));
}

process.on("SIGTERM", async () => {
  await app.close();
  await passes?.close();
  process.exit(0);
});
await app.listen({ port: 0, host: "127.0.0.1" });
console.log(`READY ${app.server.address().port}`);
