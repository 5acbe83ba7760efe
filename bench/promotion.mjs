/**
 * `node bench/promotion.mjs`: how much of each request outlives a young-generation garbage
 * collection (a scavenge), and what the scavenger then costs per request, for a server as Node
 * makes it, the same with each request and response given another prototype (as Express 5 does
 * with `Object.setPrototypeOf`), Express, and Express with express-session.
 *
 * Each server runs in its own process with `--trace-gc-nvp`, under autocannon (10 connections,
 * 2 s of warm-up, then 4 s measured); the figures are summed over the scavenges of the measured
 * part. Why this matters to visitor-pass: bench/README.md ("Garbage collection").
 */
import { spawn } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const VARIANTS = {
  "Node's `http`": "node",
  "the same, request and response given another prototype": "prototype",
  Express: "express",
  "Express and express-session (MemoryStore)": "session",
};

if (process.argv[2] === "serve") await serve(process.argv[3]);
else await main();

async function serve(variant) {
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
}

/** Starts `variant` and collects the lines `--trace-gc-nvp` prints for scavenges. */
async function start(variant) {
  const child = spawn(
    process.execPath,
    ["--trace-gc-nvp", fileURLToPath(import.meta.url), "serve", variant],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NODE_ENV: "production" } },
  );
  const scavenges = [];
  let buffered = "";
  const port = await new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop();
      for (const line of lines) {
        const ready = /READY (\d+)/.exec(line);
        if (ready) resolve(Number(ready[1]));
        if (line.includes(" gc=s ")) scavenges.push(line);
      }
    });
    child.once("exit", (code) => reject(new Error(`${variant} exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child, scavenges };
}

function drive(url, seconds, headers) {
  return new Promise((resolve, reject) => {
    autocannon({ url, duration: seconds, connections: 10, headers }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

/** The sum of `key=<number>` over `lines`. */
function sum(lines, key) {
  const pattern = new RegExp(` ${key}=([\\d.]+)`);
  return lines.reduce((total, line) => total + Number(pattern.exec(line)?.[1] ?? 0), 0);
}

async function main() {
  console.log(
    "| server | req/s | allocated per request | outlives a scavenge, per request | scavenger per request |",
  );
  console.log("|---|---:|---:|---:|---:|");
  for (const [label, variant] of Object.entries(VARIANTS)) {
    const server = await start(variant);
    try {
      const start = await fetch(`${server.url}/start`);
      await start.arrayBuffer();
      const cookie = start.headers.get("set-cookie")?.split(";")[0];
      const headers = cookie ? { cookie } : {};
      await drive(`${server.url}/`, 2, headers);
      server.scavenges.length = 0;
      const result = await drive(`${server.url}/`, 4, headers);
      const requests = result.requests.total;
      const { scavenges } = server;
      const kb = (bytes) => `${(bytes / requests / 1024).toFixed(1)} KB`;
      console.log(
        `| ${label} | ${result.requests.average.toFixed(0)} | ${kb(sum(scavenges, "allocated"))} | ${kb(sum(scavenges, "promoted") + sum(scavenges, "semi_space_copied"))} | ${((1000 * sum(scavenges, "pause")) / requests).toFixed(1)} µs |`,
      );
    } finally {
      server.child.kill("SIGTERM");
    }
  }
}
