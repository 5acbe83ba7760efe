/**
 * `npm run bench`: visitor-pass under real HTTP load, measured as ratios side by side in one run
 * (this machine is shared and noisy, so absolute figures mean little). Results are printed and
 * written to bench/RESULTS.md with the machine and the date.
 *
 * Each app runs in its own process; autocannon drives it from this one. Variants are measured in
 * alternation, round after round, and each ratio is the median of the rounds' ratios.
 *
 * BENCH_QUICK=1 runs shorter rounds and smaller data sets (for trying the harness out);
 * BENCH_POSTGRES_URL (or VISITOR_PASS_TEST_POSTGRES_URL) adds the PostgreSQL overhead figure;
 * BENCH_ONLY=growth,memory (any of overhead, landing, nestjs, fastify, hono, next, growth, memory)
 * runs only those sections.
 * Quick and partial runs write bench/RESULTS.quick.md instead of the recorded results.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  admitVisitor,
  cookieOf,
  load,
  median,
  type Server,
  startServer,
  startVisitorApp,
} from "./load.js";
import { seedSqlite } from "./seed.js";

const quick = process.env.BENCH_QUICK === "1";
const sections = [
  "overhead",
  "landing",
  "nestjs",
  "fastify",
  "hono",
  "next",
  "growth",
  "memory",
] as const;
const only = process.env.BENCH_ONLY?.split(",").map((name) => name.trim());
for (const name of only ?? []) {
  if (!(sections as readonly string[]).includes(name)) {
    console.error(`BENCH_ONLY: unknown section "${name}" (one of: ${sections.join(", ")})`);
    process.exit(2);
  }
}
const wanted = (section: (typeof sections)[number]) => !only || only.includes(section);
const here = path.dirname(fileURLToPath(import.meta.url));
const app = path.join(here, "servers/express-app.mjs");
const floor = path.join(here, "servers/express-floor.mjs");
const nestApp = path.join(here, "servers/nestjs-app.mjs");
const fastifyApp = path.join(here, "servers/fastify-app.mjs");
const honoApp = path.join(here, "servers/hono-app.mjs");
const nextApp = path.join(here, "servers/next-app");
const nextBin = path.join(here, "../node_modules/next/dist/bin/next");
const scratch = mkdtempSync(path.join(os.tmpdir(), "visitor-pass-bench-"));
const rounds = quick ? 3 : 8;
const seconds = quick ? 1 : 2;
const connections = 10;
const lines: string[] = [];

function say(line = ""): void {
  console.log(line);
  lines.push(line);
}

/** A running app and the cookie of a session it knows. */
interface Started {
  server: Server;
  cookie: string;
}

/** A visitor app on `database` with one unlimited pass, and the cookie of an admitted session. */
function visitorApp(database: string, env: Record<string, string> = {}) {
  return startVisitorApp(app, { BENCH_DATABASE: database, ...env });
}

/** `script` started with `env`, and the cookie of the session its `GET /start` creates. */
async function startedAt(script: string, env: Record<string, string>): Promise<Started> {
  const server = await startServer(script, env);
  return { server, cookie: await cookieOf(await fetch(`${server.url}/start`)) };
}

function plainApp() {
  return startedAt(app, { BENCH_MODE: "plain" });
}

/** Median over rounds of `measure(b) / mean(measure(a) before and after)`. */
async function ratio(
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<{ ratio: number; a: number; b: number }> {
  const ratios: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  await a(); // warm-up: JIT, caches, connections
  await b();
  for (let round = 0; round < rounds; round++) {
    const before = await a();
    const value = await b();
    const after = await a();
    as.push(before, after);
    bs.push(value);
    ratios.push(value / ((before + after) / 2));
  }
  return { ratio: median(ratios), a: median(as), b: median(bs) };
}

/**
 * What visitor-pass adds to a request, in µs of the server's time: with the server saturated, one
 * request takes 1/throughput of it. Unlike the ratio, it does not depend on how fast the host
 * serves the plain request.
 */
function addedMicros({ a, b }: { a: number; b: number }): string {
  return `${(1e6 / b - 1e6 / a).toFixed(0)} µs`;
}

/**
 * Requests per second on `url`. A round in which any request failed, or got an answer other than
 * a 2xx (a redirect too, unless `redirects`), fails the run: a refused visitor answers faster
 * than a guarded page, and must not pass for one.
 */
const throughput =
  (url: string, headers: Record<string, string> = {}, { redirects = false } = {}) =>
  async () => {
    const result = await load(url, { seconds, connections, headers });
    if (result.errors > 0 || (!redirects && result.non2xx > 0)) {
      throw new Error(
        `${url}: ${result.errors} requests failed and ${result.non2xx} were answered other than 2xx, of ${result.requests}`,
      );
    }
    return result.throughput;
  };

/**
 * The visit request written by hand without visitor-pass, on `database`, with a session holding
 * its pass (bench/servers/express-floor.mjs): what the host allows, to read the ratios against.
 */
function floorApp(database: string) {
  return startedAt(floor, { BENCH_DATABASE: database });
}

/** One row of the overhead table: the app `start` gives, against the plain app. */
async function overhead(label: string, start: () => Promise<Started>) {
  const plain = await plainApp();
  const visitor = await start();
  try {
    const result = await ratio(
      throughput(`${plain.server.url}/reference`, { cookie: plain.cookie }),
      throughput(`${visitor.server.url}/reference`, { cookie: visitor.cookie }),
    );
    say(
      `| ${label} | ${result.a.toFixed(0)} | ${result.b.toFixed(0)} | ${addedMicros(result)} | **${result.ratio.toFixed(2)}** |`,
    );
  } finally {
    await plain.server.stop();
    await visitor.server.stop();
  }
}

async function landing(database: string) {
  const plain = await plainApp();
  const visitor = await visitorApp(database);
  try {
    const result = await ratio(
      throughput(`${plain.server.url}/start`),
      throughput(`${visitor.server.url}/reference?vuid=${visitor.uuid}`, {}, { redirects: true }),
    );
    say(
      `| first click (lookup, use spent, rotation, redirect) vs a request creating a session | ${result.a.toFixed(0)} | ${result.b.toFixed(0)} | ${addedMicros(result)} | **${result.ratio.toFixed(2)}** |`,
    );
  } finally {
    await plain.server.stop();
    await visitor.server.stop();
  }
}

/**
 * The NestJS adapter: the same Nest app (Express platform) with a plain session route, and with
 * VisitorPassModule and a route under `@UserIsVisitor()`, side by side.
 */
async function nestjs(database: string) {
  const plain = await startedAt(nestApp, { BENCH_MODE: "plain" });
  const visitor = await startVisitorApp(nestApp, { BENCH_DATABASE: database });
  try {
    const result = await ratio(
      throughput(`${plain.server.url}/reference`, { cookie: plain.cookie }),
      throughput(`${visitor.server.url}/reference`, { cookie: visitor.cookie }),
    );
    say(
      `| NestJS on Express, SQLite: \`@UserIsVisitor()\` vs the same app's session route | ${result.a.toFixed(0)} | ${result.b.toFixed(0)} | ${addedMicros(result)} | **${result.ratio.toFixed(2)}** |`,
    );
  } finally {
    await plain.server.stop();
    await visitor.server.stop();
  }
}

/**
 * One row of an adapter's table: the app `visitor` starts (a guarded, logged route at
 * `visitorRoute`) against the same app without visitor-pass (`plain`, its route at `plainRoute`),
 * side by side.
 */
async function adapterRow(
  label: string,
  plain: () => Promise<Started>,
  visitor: () => Promise<Started>,
  plainRoute = "/reference",
  visitorRoute = "/reference",
) {
  const a = await plain();
  const b = await visitor();
  try {
    const result = await ratio(
      throughput(`${a.server.url}${plainRoute}`, { cookie: a.cookie }),
      throughput(`${b.server.url}${visitorRoute}`, { cookie: b.cookie }),
    );
    say(
      `| ${label} | ${result.a.toFixed(0)} | ${result.b.toFixed(0)} | ${addedMicros(result)} | **${result.ratio.toFixed(2)}** |`,
    );
  } finally {
    await a.server.stop();
    await b.server.stop();
  }
}

/** The databases of the adapters' rows: SQLite (a file named after `name`), and PostgreSQL if set. */
function adapterDatabases(name: string): { label: string; database: string | null }[] {
  const postgres = process.env.BENCH_POSTGRES_URL ?? process.env.VISITOR_PASS_TEST_POSTGRES_URL;
  return [
    { label: "SQLite", database: `sqlite:${path.join(scratch, `${name}.sqlite3`)}` },
    { label: "PostgreSQL", database: postgres ?? null },
  ];
}

/** The rows of an adapter's section, one per database (a skipped row without PostgreSQL). */
async function adapterSection(
  name: string,
  describe: (database: string) => string,
  row: (label: string, database: string) => Promise<void>,
) {
  say("| | plain req/s | visitor-pass req/s | time added per request | ratio |");
  say("|---|---:|---:|---:|---:|");
  for (const { label, database } of adapterDatabases(name)) {
    if (database) await row(`${describe(label)}`, database);
    else say(`| ${describe(label)} | — | — | — | skipped: set BENCH_POSTGRES_URL |`);
  }
}

/** The Next.js bench app (`servers/next-app`) served by `next start` in its own process. */
function nextServer(env: Record<string, string>) {
  return startServer(
    nextBin,
    // The proxy's module creates the passes in every process: on a file of the run's own.
    {
      NEXT_TELEMETRY_DISABLED: "1",
      BENCH_DATABASE: `sqlite:${path.join(scratch, "next-plain.sqlite3")}`,
      ...env,
    },
    {
      args: ["start", nextApp, "-H", "127.0.0.1", "-p", "0"],
      group: true,
      ready: /Local:\s+http:\/\/127\.0\.0\.1:(\d+)[\s\S]*Ready in/,
    },
  );
}

/** `next build` of the bench app, once, before anything is measured. */
function buildNextApp(): number {
  const started = performance.now();
  execFileSync(process.execPath, [nextBin, "build"], {
    cwd: nextApp,
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return (performance.now() - started) / 1000;
}

/** What the bench server says of the event loop while it purged (or idled). */
interface Held {
  purged?: number;
  ms: number;
  heldMaxMs: number;
  heldP99Ms: number;
}

async function growth() {
  const sizes = quick
    ? [
        { passes: 1_000, logs: 0 },
        { passes: 20_000, logs: 0 },
        { passes: 100_000, logs: 1_000_000 },
      ]
    : [
        { passes: 1_000, logs: 0 },
        { passes: 100_000, logs: 0 },
        { passes: 1_000_000, logs: 10_000_000 },
      ];
  const apps: { label: string; server: Server; cookie: string; file: string }[] = [];
  for (const size of sizes) {
    const file = path.join(scratch, `growth-${size.passes}.sqlite3`);
    const started = performance.now();
    await seedSqlite(file, { ...size, expiresAt: Date.now() - 3_600_000 });
    say(
      `- seeded ${size.passes.toLocaleString("en")} expired passes and ${size.logs.toLocaleString("en")} visit logs in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const visitor = await visitorApp(`sqlite:${file}`);
    apps.push({
      label: `${size.passes.toLocaleString("en")} passes, ${size.logs.toLocaleString("en")} logs`,
      server: visitor.server,
      cookie: visitor.cookie,
      file,
    });
  }
  // Seeding leaves gigabytes of dirty pages for the kernel to write back: written before the
  // measurement rather than during it.
  execFileSync("sync");
  say();
  say("| stored | req/s | relative to the smallest |");
  say("|---|---:|---:|");
  const [smallest, ...rest] = apps;
  try {
    const base = throughput(`${smallest!.server.url}/reference`, { cookie: smallest!.cookie });
    say(`| ${smallest!.label} | — | 1.00 |`);
    for (const other of rest) {
      const result = await ratio(
        base,
        throughput(`${other.server.url}/reference`, { cookie: other.cookie }),
      );
      say(`| ${other.label} | ${result.b.toFixed(0)} | **${result.ratio.toFixed(2)}** |`);
    }

    // Purge the largest data set while a visitor keeps requesting: no request may wait long.
    // Measured twice under the same load, first with the app idle between requests (what this
    // machine's noise alone does to latency), then while purging.
    const largest = apps[apps.length - 1]!;
    const underLoad = async (work: string) => {
      const done = fetch(work, { method: "POST" }).then(
        (response) => response.json() as Promise<Held>,
      );
      const during = load(`${largest.server.url}/reference`, {
        seconds: 3600,
        connections: 2,
        headers: { cookie: largest.cookie },
        until: done,
      });
      return { held: await done, requests: await during };
    };
    const idleSeconds = quick ? 5 : 20;
    const idle = await underLoad(`${largest.server.url}/bench/idle?ms=${idleSeconds * 1000}`);
    const purge = await underLoad(`${largest.server.url}/bench/purge`);
    say();
    say(
      `Purge of ${purge.held.purged!.toLocaleString("en")} expired passes and their logs: ${(purge.held.ms / 1000).toFixed(1)} s in time-bounded batches (at most 250 passes, smaller while one takes more than 40 ms with its checkpoint, each followed by a rest as long as it took), while a visitor kept requesting (2 connections, from start to end):`,
    );
    say();
    say("| | event loop held, max | held, p99 | request p99 | request max | non-2xx | errors |");
    say("|---|---:|---:|---:|---:|---:|---:|");
    for (const [label, run] of [
      ["no purge (the machine's noise)", idle],
      ["during the purge", purge],
    ] as const) {
      say(
        `| ${label} | **${run.held.heldMaxMs.toFixed(0)} ms** | ${run.held.heldP99Ms.toFixed(0)} ms | ${run.requests.latencyP99} ms | ${run.requests.latencyMax} ms | ${run.requests.non2xx} | ${run.requests.errors} |`,
      );
    }
  } finally {
    for (const running of apps) await running.server.stop();
  }
}

/** The demo (examples/express-demo) with Ginger admitted through the link Fred's request sent. */
async function demoWithVisitor(database: string) {
  const server = await startServer(
    path.join(here, "../examples/express-demo/server.ts"),
    { PORT: "0", VISITOR_PASS_DATABASE_URL: database, SESSION_SECRET: "bench-secret" },
    { nodeArgs: ["--import", "tsx"], ready: /visitor-pass demo: http:\/\/localhost:(\d+)\// },
  );
  const post = (route: string, cookie: string, body = "") =>
    fetch(`${server.url}${route}`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded", origin: server.url },
      body,
    });
  const fred = await cookieOf(await post("/sign-in", ""));
  const asked = await post(
    "/ask",
    fred,
    new URLSearchParams({
      name: "Ginger Rogers",
      email: "ginger@example.org",
      message: "Could you write me a reference?",
    }).toString(),
  );
  await asked.arrayBuffer();
  if (asked.status !== 303) throw new Error(`the demo answered ${asked.status} to the request`);
  const outbox = await (await fetch(`${server.url}/outbox`, { headers: { cookie: fred } })).text();
  const link = /href="([^"]*vuid=[^"]+)"/.exec(outbox)?.[1]?.replaceAll("&amp;", "&");
  if (!link) throw new Error("no link in the demo's outbox");
  const landing = await fetch(link, { redirect: "manual" });
  if (landing.status !== 302) throw new Error(`the demo's link answered ${landing.status}`);
  return { server, cookie: await cookieOf(landing) };
}

/** Resident memory of a process, in MiB (`ps`, so that the app needs no endpoint for it). */
function rssOf(pid: number): number {
  return Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" })) / 1024;
}

async function memory() {
  const demo = await demoWithVisitor(`sqlite:${path.join(scratch, "demo.sqlite3")}`);
  try {
    const samples: number[] = [];
    const total = quick ? 6 : 40;
    let requests = 0;
    for (let round = 0; round < total; round++) {
      requests += (
        await load(`${demo.server.url}/reference`, {
          seconds: 3,
          connections,
          headers: { cookie: demo.cookie },
        })
      ).requests;
      samples.push(rssOf(demo.server.child.pid!));
    }
    const settled = samples.slice(Math.floor(samples.length / 3));
    const growthMb = settled[settled.length - 1]! - settled[0]!;
    say(
      `The demo (\`npm run demo\`, TypeScript loader included) under load, Ginger's guarded and logged reference page: ${requests.toLocaleString("en")} requests over ${total * 3} s, resident memory sampled every 3 s: ${samples.map((mb) => mb.toFixed(0)).join(" → ")} MB; after warm-up ${settled[0]!.toFixed(0)} MB → ${settled[settled.length - 1]!.toFixed(0)} MB (${growthMb >= 0 ? "+" : ""}${growthMb.toFixed(1)} MB), highest ${Math.max(...settled).toFixed(0)} MB.`,
    );
  } finally {
    await demo.server.stop();
  }
}

async function main() {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  say("# Benchmark results");
  say();
  say(
    `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${os.cpus().length} × ${cpu} · ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB · load average ${os.loadavg()[0]!.toFixed(1)} at start${quick ? " · QUICK run" : ""}`,
  );
  say();
  say(
    `Express 5 + express-session (MemoryStore) in its own process, driven by autocannon (${connections} connections, ${seconds} s per measurement, ${rounds} alternating rounds; medians of the per-round ratios).`,
  );
  say();
  if (wanted("overhead")) {
    say("## Overhead: a guarded, logged request from a visitor in session");
    say();
    say(
      "| database | plain req/s | visitor-pass req/s | time added per request | ratio (target ≥ 0.85 on SQLite) |",
    );
    say("|---|---:|---:|---:|---:|");
    const sqlite = (name: string) => `sqlite:${path.join(scratch, `${name}.sqlite3`)}`;
    await overhead("SQLite (default)", () => visitorApp(sqlite("overhead")));
    // The same request with no database work but the pass cache's data-version check (the pass
    // cached, the visit not logged): the ceiling this machine allows, to read the first against.
    await overhead("SQLite, visit not logged (no database work but the cache check)", () =>
      visitorApp(sqlite("overhead-nolog"), { BENCH_LOG: "0" }),
    );
    await overhead(
      "floor: the same request and database work hand-written, without visitor-pass",
      () => floorApp(sqlite("overhead-floor")),
    );
    await overhead("SQLite, pass cache off", () =>
      visitorApp(sqlite("overhead-nocache"), { BENCH_PASS_CACHE: "0" }),
    );
    const postgres = process.env.BENCH_POSTGRES_URL ?? process.env.VISITOR_PASS_TEST_POSTGRES_URL;
    if (postgres) {
      await overhead("PostgreSQL", () => visitorApp(postgres));
      await overhead('PostgreSQL, `passCache: "listen"`', () =>
        visitorApp(postgres, { BENCH_PASS_CACHE: "listen" }),
      );
    } else say("| PostgreSQL | — | — | — | skipped: set BENCH_POSTGRES_URL |");
    say();
  }
  if (wanted("landing")) {
    say("## Landing");
    say();
    say("| | plain req/s | visitor-pass req/s | time added per request | ratio |");
    say("|---|---:|---:|---:|---:|");
    await landing(`sqlite:${path.join(scratch, "landing.sqlite3")}`);
    say();
  }
  if (wanted("nestjs")) {
    say("## NestJS: a guarded, logged request from a visitor in session");
    say();
    say("| | plain req/s | visitor-pass req/s | time added per request | ratio |");
    say("|---|---:|---:|---:|---:|");
    await nestjs(`sqlite:${path.join(scratch, "nestjs.sqlite3")}`);
    say();
  }
  if (wanted("fastify")) {
    say("## Fastify: a guarded, logged request from a visitor in session");
    say();
    await adapterSection(
      "fastify",
      (database) =>
        `Fastify 5, ${database}: \`userIsVisitor()\` preHandler vs the same app's @fastify/session route`,
      (label, database) =>
        adapterRow(
          label,
          () => startedAt(fastifyApp, { BENCH_MODE: "plain" }),
          () => startVisitorApp(fastifyApp, { BENCH_DATABASE: database }),
        ),
    );
    say();
  }
  if (wanted("hono")) {
    say("## Hono: a guarded, logged request from a visitor with its cookie");
    say();
    await adapterSection(
      "hono",
      (database) =>
        `Hono on @hono/node-server, ${database}: \`userIsVisitor()\` (encrypted cookie) vs the same app reading a signed cookie`,
      (label, database) =>
        adapterRow(
          label,
          () => startedAt(honoApp, { BENCH_MODE: "plain" }),
          () => startVisitorApp(honoApp, { BENCH_DATABASE: database }),
        ),
    );
    say();
  }
  if (wanted("next")) {
    say("## Next.js: a guarded, logged Route Handler from a visitor with its cookie");
    say();
    say(
      `The bench app (\`servers/next-app\`) built by \`next build\` in ${buildNextApp().toFixed(0)} s, each variant served by \`next start\` in its own process.`,
    );
    say();
    await adapterSection(
      "next",
      (database) =>
        `Next.js 16, ${database}: the proxy and \`withVisitor()\` vs a Route Handler reading a signed cookie`,
      (label, database) =>
        adapterRow(
          label,
          async () => {
            const server = await nextServer({ BENCH_MODE: "plain" });
            return { server, cookie: await cookieOf(await fetch(`${server.url}/plain/start`)) };
          },
          async () =>
            admitVisitor(await nextServer({ BENCH_MODE: "visitor", BENCH_DATABASE: database })),
          "/plain/reference",
        ),
    );
    // The same route with no proxy before it (`withVisitor()` admits and restores by itself):
    // how much of the row above is the proxy.
    await adapterRow(
      "Next.js 16, SQLite: `withVisitor()` alone, no proxy, vs the same plain Route Handler",
      async () => {
        const server = await nextServer({ BENCH_MODE: "plain" });
        return { server, cookie: await cookieOf(await fetch(`${server.url}/plain/start`)) };
      },
      async () =>
        admitVisitor(
          await nextServer({
            BENCH_MODE: "visitor",
            BENCH_DATABASE: `sqlite:${path.join(scratch, "next-direct.sqlite3")}`,
          }),
          "/direct/reference",
        ),
      "/plain/reference",
      "/direct/reference",
    );
    // No visitor-pass on either side: the plain route behind a proxy that does nothing, against
    // the same route with no proxy. Next's own share of the proxy row.
    await adapterRow(
      "Next.js 16, no visitor-pass: the same plain Route Handler behind a proxy doing nothing (`NextResponse.next()`) vs without",
      async () => {
        const server = await nextServer({ BENCH_MODE: "plain" });
        return { server, cookie: await cookieOf(await fetch(`${server.url}/plain/start`)) };
      },
      async () => {
        const server = await nextServer({ BENCH_MODE: "plain" });
        return { server, cookie: await cookieOf(await fetch(`${server.url}/plain/start`)) };
      },
      "/plain/reference",
      "/noop/reference",
    );
    say();
  }
  if (wanted("growth")) {
    say("## Growth: per-request cost as the tables grow (SQLite)");
    say();
    await growth();
    say();
  }
  if (wanted("memory")) {
    say("## Memory");
    say();
    await memory();
  }
  // A quick or partial run does not overwrite the recorded results.
  const out = path.join(here, quick || only ? "RESULTS.quick.md" : "RESULTS.md");
  writeFileSync(out, `${lines.join("\n")}\n`);
  console.log(`\nwritten to ${path.relative(process.cwd(), out)}`);
}

try {
  await main();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
