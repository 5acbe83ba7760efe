/**
 * The Hono app under load, on @hono/node-server, run in its own process like express-app.mjs;
 * BENCH_MODE picks the variant; it prints "READY <port>" once listening.
 *
 * - `plain`: a route that reads a signed cookie (hono/cookie's `getSignedCookie`, set by
 *   `setSignedCookie` on `GET /start`): Hono has no session, and a signed cookie is what the
 *   visitor's encrypted stash cookie stands in for. The baseline.
 * - `visitor`: the same app with `visitorPass(passes, { secret })`; the route is guarded by
 *   `userIsVisitor()` and each visit logged.
 *
 * Plain JavaScript against dist/, so that nothing but the package itself runs in the measured
 * process. Both answer `GET /start` (plain: sets the cookie) and `GET /reference`; the visitor
 * app admits on `GET /reference?vuid=…`.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { getSignedCookie, setSignedCookie } from "hono/cookie";
// The built package, as users run it (npm run bench builds first).
import { userIsVisitor, visitorPass } from "../../dist/adapters/hono/index.js";
import { createVisitorPass } from "../../dist/index.js";

const mode = process.env.BENCH_MODE ?? "plain";
const database = process.env.BENCH_DATABASE ?? "sqlite::memory:";
const secret = "bench-secret-bench-secret-bench-secret";

const app = new Hono();
// The process's CPU time so far (as in express-app.mjs).
app.get("/bench/cpu", (c) => c.json(process.cpuUsage()));

let passes = null;
if (mode === "plain") {
  app.get("/start", async (c) => {
    await setSignedCookie(c, "user", "ginger", secret, {
      path: "/",
      httpOnly: true,
      sameSite: "Lax",
      maxAge: 86_400,
    });
    return c.text("ok");
  });
  app.get("/reference", async (c) => {
    const who = await getSignedCookie(c, secret, "user");
    return c.json({ who: who || null });
  });
} else {
  passes = createVisitorPass({
    database,
    env: {},
    passCache: { 0: false, listen: "listen" }[process.env.BENCH_PASS_CACHE ?? ""] ?? true,
  });
  await passes.migrate();
  app.use(visitorPass(passes, { secret }));
  app.get(
    "/reference",
    userIsVisitor({ scope: "REFERENCE_REQUEST", logVisit: process.env.BENCH_LOG !== "0" }),
    (c) => c.json({ who: c.var.visitor?.uuid ?? null }),
  );
  app.post("/bench/pass", async (c) => {
    const visitor = await passes.create({
      email: "ginger@example.org",
      scope: "REFERENCE_REQUEST",
      expiresAt: null,
    });
    return c.json({ uuid: visitor.uuid });
  });
  app.get("/bench/logs", async (c) =>
    c.json({ count: (await passes.logs(c.req.query("uuid"))).length }),
  );
}

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
  console.log(`READY ${info.port}`);
});
process.on("SIGTERM", async () => {
  await new Promise((resolve) => server.close(resolve));
  await passes?.close();
  process.exit(0);
});
