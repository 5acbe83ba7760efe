/**
 * The app under load, run in its own process so that the load generator does not share its core.
 * BENCH_MODE picks the variant; it prints "READY <port>" once listening.
 *
 * - `plain`: express-session and a route that reads the session: the baseline.
 * - `visitor`: the same app with visitorPass; the route is guarded and each visit logged.
 *
 * Plain JavaScript against dist/, so that nothing but the package itself runs in the measured
 * process (no TypeScript loader).
 *
 * Both answer `GET /start` (plain: creates a session) and `GET /reference`; the visitor app admits
 * on `GET /reference?vuid=…` (token lookup, a use spent, session rotation, redirect).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import express from "express";
import session from "express-session";
import { userIsVisitor, visitorPass } from "../../dist/adapters/express/index.js";
// The built package, as users run it (npm run bench builds first).
import { createVisitorPass } from "../../dist/index.js";

const mode = process.env.BENCH_MODE ?? "plain";
const database = process.env.BENCH_DATABASE ?? "sqlite::memory:";

const app = express();
app.use(session({ secret: "bench-secret", resave: false, saveUninitialized: false }));
// The process's CPU time so far: read before and after a load to get CPU µs per request
// (bench/compare.ts reports it beside throughput).
app.get("/bench/cpu", (_req, res) => {
  res.json(process.cpuUsage());
});

if (mode === "plain") {
  process.on("SIGTERM", () => process.exit(0));
  app.get("/start", (req, res) => {
    req.session.user = "ginger";
    res.send("ok");
  });
  app.get("/reference", (req, res) => {
    const who = req.session.user;
    res.json({ who: who ?? null });
  });
} else {
  const passes = createVisitorPass({
    database,
    env: {},
    passCache: { 0: false, listen: "listen" }[process.env.BENCH_PASS_CACHE ?? ""] ?? true,
  });
  await passes.migrate();
  app.use(visitorPass(passes));
  app.get(
    "/reference",
    userIsVisitor({ scope: "REFERENCE_REQUEST", logVisit: process.env.BENCH_LOG !== "0" }),
    (req, res) => {
      res.json({ who: req.visitor?.uuid ?? null });
    },
  );
  app.post("/bench/pass", async (_req, res) => {
    const visitor = await passes.create({
      email: "ginger@example.org",
      scope: "REFERENCE_REQUEST",
      expiresAt: null,
    });
    res.json({ uuid: visitor.uuid });
  });
  app.get("/bench/logs", async (req, res) => {
    res.json({ count: (await passes.logs(String(req.query.uuid))).length });
  });
  // How long the event loop was held while `work` ran: the longest wait any request had before
  // this process could even start on it (`monitorEventLoopDelay`, 5 ms resolution).
  const heldDuring = async (work) => {
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    const result = await work();
    delay.disable();
    return {
      ...result,
      ms: performance.now() - started,
      heldMaxMs: delay.max / 1e6,
      heldP99Ms: delay.percentile(99) / 1e6,
    };
  };
  app.post("/bench/purge", async (_req, res) => {
    res.json(await heldDuring(async () => ({ purged: await passes.purge() })));
  });
  // The same measurement with nothing but the visitor's requests running: the machine's noise.
  app.post("/bench/idle", async (req, res) => {
    const ms = Math.min(Number(req.query.ms) || 1000, 120_000);
    res.json(await heldDuring(() => new Promise((resolve) => setTimeout(() => resolve({}), ms))));
  });
  process.on("SIGTERM", async () => {
    await passes.close();
    process.exit(0);
  });
}

const server = app.listen(0, "127.0.0.1", () => {
  console.log(`READY ${server.address().port}`);
});
