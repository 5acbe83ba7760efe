/**
 * The floor: the visitor app's request written by hand for this one case, without visitor-pass,
 * doing the same database work. What the host allows a logged visitor request to cost, to read
 * the overhead figures against.
 *
 * - A pass is looked up once and kept in a Map, forgotten whenever `PRAGMA data_version` says
 *   another connection wrote, checked at most once in 5 ms (as visitor-pass's pass cache does).
 * - The route is guarded by the pass's scope, and each visit queued with its final status and
 *   written 50 ms later (as visitor-pass does), in one transaction, to the same table with its indexes and foreign key.
 *
 * No validation, no token handling, no options, no error paths: nothing a library needs and this
 * request does not. `GET /start` puts the pass in a new session (the visitor app's landing).
 */
import Database from "better-sqlite3";
import express from "express";
import session from "express-session";
import { createVisitorPass } from "../../dist/index.js";

const file = (process.env.BENCH_DATABASE ?? "").replace(/^sqlite:/, "");
if (!file) throw new Error("BENCH_DATABASE=sqlite:<file> is needed");

// The tables as visitor-pass creates them, and one unlimited pass.
const passes = createVisitorPass({ database: `sqlite:${file}`, env: {} });
await passes.migrate();
const pass = await passes.create({
  email: "ginger@example.org",
  scope: "REFERENCE_REQUEST",
  expiresAt: null,
});
await passes.close();

const db = new Database(file);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("foreign_keys = ON");
const dataVersion = db.prepare("PRAGMA data_version").pluck();
const findPass = db.prepare(
  "select id, uuid, scope, is_active from visitor_pass_visitors where uuid = ?",
);
const insertLog = db.prepare(
  `insert into visitor_pass_visitor_logs (visitor_id, session_key, http_method, request_uri,
    query_string, http_user_agent, http_referer, remote_addr, status_code, timestamp,
    client_network, browser_family) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
);
const writeLogs = db.transaction((rows) => {
  for (const row of rows) insertLog.run(row);
});

const cache = new Map();
let seen = -1;
let checkedUntil = 0;
let queue = [];
let timer = null;

function flush() {
  timer = null;
  const rows = queue;
  queue = [];
  writeLogs(rows);
}

const app = express();
app.use(session({ secret: "bench-secret", resave: false, saveUninitialized: false }));
app.get("/bench/cpu", (_req, res) => {
  res.json(process.cpuUsage());
});
app.get("/start", (req, res) => {
  req.session.visitor = pass.uuid;
  res.send("ok");
});
app.use((req, _res, next) => {
  const now = performance.now();
  if (now >= checkedUntil) {
    checkedUntil = now + 5;
    const version = dataVersion.get();
    if (version !== seen) {
      cache.clear();
      seen = version;
    }
  }
  const uuid = req.session.visitor;
  let visitor = null;
  if (uuid) {
    visitor = cache.get(uuid);
    if (visitor === undefined) {
      visitor = findPass.get(uuid) ?? null;
      cache.set(uuid, visitor);
    }
  }
  req.visitor = visitor?.is_active ? visitor : null;
  next();
});
app.get(
  "/reference",
  (req, res, next) => {
    const visitor = req.visitor;
    if (visitor?.scope !== "REFERENCE_REQUEST") {
      res.status(403).send("Forbidden");
      return;
    }
    res.on("finish", () => {
      queue.push([
        visitor.id,
        req.sessionID,
        req.method,
        req.path,
        "",
        req.headers["user-agent"] ?? null,
        req.headers.referer ?? null,
        req.socket.remoteAddress ?? null,
        res.statusCode,
        Date.now(),
        null,
        null,
      ]);
      if (timer === null) timer = setTimeout(flush, 50);
    });
    next();
  },
  (req, res) => {
    res.json({ who: req.visitor.uuid });
  },
);
process.on("SIGTERM", () => {
  if (timer !== null) clearTimeout(timer);
  if (queue.length > 0) flush();
  db.close();
  process.exit(0);
});

const server = app.listen(0, "127.0.0.1", () => {
  console.log(`READY ${server.address().port}`);
});
