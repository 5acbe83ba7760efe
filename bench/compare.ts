/**
 * `npm run bench:compare -- <other-checkout>`: this build of visitor-pass against another one
 * (a `git worktree` of an earlier commit, built), for a change too small for `npm run bench` to
 * tell from this host's noise.
 *
 * Both bench servers run at once and are loaded at once, round after round: whatever else the
 * host is doing then slows both alike, and the ratio of their throughputs is the ratio of their
 * costs per request. Each server also reports the CPU it spent, as µs per request. Run it twice
 * with the same checkout on both sides to see how much the host still moves the figures.
 *
 * BENCH_COMPARE_ENV='{"BENCH_LOG":"0"}' passes settings to both servers; BENCH_ROUNDS (10) and
 * BENCH_SECONDS (2) size the run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { load, median, type Server, startVisitorApp } from "./load.js";

const other = process.argv[2];
if (!other) {
  console.error("usage: npm run bench:compare -- <checkout of visitor-pass, built>");
  process.exit(2);
}
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sides = [
  { name: "this build", root: here },
  { name: `${path.basename(path.resolve(other))}`, root: path.resolve(other) },
];
const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const env = JSON.parse(process.env.BENCH_COMPARE_ENV ?? "{}") as Record<string, string>;
const scratch = mkdtempSync(path.join(os.tmpdir(), "visitor-pass-compare-"));

interface Side {
  name: string;
  server: Server;
  cookie: string;
  throughput: number[];
  cpu: number[];
}

async function start(name: string, root: string, index: number): Promise<Side> {
  const { server, cookie } = await startVisitorApp(
    path.join(root, "bench/servers/express-app.mjs"),
    { BENCH_DATABASE: `sqlite:${path.join(scratch, `side-${index}.sqlite3`)}`, ...env },
  );
  return { name, server, cookie, throughput: [], cpu: [] };
}

/** The server's CPU time so far, in µs. */
async function cpuOf(side: Side): Promise<number> {
  const usage = (await (await fetch(`${side.server.url}/bench/cpu`)).json()) as NodeJS.CpuUsage;
  return usage.user + usage.system;
}

const started: Side[] = [];
try {
  for (const [index, side] of sides.entries())
    started.push(await start(side.name, side.root, index));
  for (let round = -1; round < rounds; round++) {
    const before = await Promise.all(started.map(cpuOf));
    const results = await Promise.all(
      started.map((side) =>
        load(`${side.server.url}/reference`, {
          seconds,
          connections: 5,
          headers: { cookie: side.cookie },
        }),
      ),
    );
    const after = await Promise.all(started.map(cpuOf));
    if (round < 0) continue; // warm-up
    for (const [index, side] of started.entries()) {
      side.throughput.push(results[index]!.throughput);
      side.cpu.push((after[index]! - before[index]!) / results[index]!.requests);
    }
  }
  const [mine, theirs] = started as [Side, Side];
  const ratios = mine.throughput.map((value, round) => value / theirs.throughput[round]!);
  for (const side of started) {
    console.log(
      `${side.name}: ${median(side.throughput).toFixed(0)} req/s, ${median(side.cpu).toFixed(1)} µs of CPU per request (medians of ${rounds} rounds)`,
    );
  }
  console.log(
    `throughput of this build relative to the other: ${median(ratios).toFixed(3)} (rounds ${Math.min(...ratios).toFixed(3)} to ${Math.max(...ratios).toFixed(3)})`,
  );
} finally {
  for (const side of started) await side.server.stop();
  rmSync(scratch, { recursive: true, force: true });
}
