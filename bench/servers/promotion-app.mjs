/**
 * The servers `bench/promotion.ts` compares, one per process; BENCH_VARIANT picks it: `node`
 * (Node's `http`, one JSON answer), `prototype` (the same, each request and response given another
 * prototype as Express 5 does with `Object.setPrototypeOf`), `express`, or `session` (Express and
 * express-session with its MemoryStore). Each answers `GET /` (and `GET /start`, which creates a
 * session where there are sessions); it prints "READY <port>" once listening.
 */
import http from "node:http";

const variant = process.env.BENCH_VARIANT ?? "node";
let handler;
if (variant === "node" || variant === "prototype") {
  const requestPrototype = Object.create(http.IncomingMessage.prototype);
  const responsePrototype = Object.create(http.ServerResponse.prototype);
  handler = (req, res) => {
    if (variant === "prototype") {
      Object.setPrototypeOf(req, requestPrototype);
      Object.setPrototypeOf(res, responsePrototype);
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ who: "ginger" }));
  };
} else {
  const { default: express } = await import("express");
  const app = express();
  if (variant === "session") {
    const { default: session } = await import("express-session");
    app.use(session({ secret: "bench-secret", resave: false, saveUninitialized: false }));
  }
  app.get("/start", (req, res) => {
    if (req.session) req.session.user = "ginger";
    res.send("ok");
  });
  app.get("/", (req, res) => {
    res.json({ who: req.session?.user ?? null });
  });
  handler = app;
}
const server = http.createServer(handler);
server.listen(0, "127.0.0.1", () => console.log(`READY ${server.address().port}`));
process.on("SIGTERM", () => process.exit(0));
