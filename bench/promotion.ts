/**
 * `npx tsx bench/promotion.ts`: how much of each request outlives a young-generation garbage
 * collection (a scavenge), and what the scavenger then costs per request, for a server as Node
 * makes it, the same with each request and response given another prototype (as Express 5 does
 * with `Object.setPrototypeOf`), Express, and Express with express-session
 * (`servers/promotion-app.mjs`).
 *
 * Each server runs in its own process with `--trace-gc-nvp`, under autocannon (10 connections,
 * 2 s of warm-up, then 4 s measured); the figures are summed over the scavenges of the measured
 * part. Why this matters to visitor-pass: bench/README.md ("Garbage collection").
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { load, startServer } from "./load.js";

const VARIANTS: Record<string, string> = {
  "Node's `http`": "node",
  "the same, request and response given another prototype": "prototype",
  Express: "express",
  "Express and express-session (MemoryStore)": "session",
};
const app = path.join(path.dirname(fileURLToPath(import.meta.url)), "servers/promotion-app.mjs");

/** The sum of `key=<number>` over `lines`. */
function sum(lines: string[], key: string): number {
  const pattern = new RegExp(` ${key}=([\\d.]+)`);
  return lines.reduce((total, line) => total + Number(pattern.exec(line)?.[1] ?? 0), 0);
}

console.log(
  "| server | req/s | allocated per request | outlives a scavenge, per request | scavenger per request |",
);
console.log("|---|---:|---:|---:|---:|");
for (const [label, variant] of Object.entries(VARIANTS)) {
  const server = await startServer(
    app,
    { BENCH_VARIANT: variant },
    { nodeArgs: ["--trace-gc-nvp"] },
  );
  // What `--trace-gc-nvp` prints for each scavenge, line by line.
  const scavenges: string[] = [];
  let buffered = "";
  server.child.stdout!.on("data", (chunk: Buffer) => {
    const lines = (buffered + chunk.toString()).split("\n");
    buffered = lines.pop()!;
    scavenges.push(...lines.filter((line) => line.includes(" gc=s ")));
  });
  try {
    const start = await fetch(`${server.url}/start`);
    await start.arrayBuffer();
    const cookie = start.headers.get("set-cookie")?.split(";")[0];
    const headers: Record<string, string> = cookie ? { cookie } : {};
    const url = `${server.url}/`;
    await load(url, { seconds: 2, connections: 10, headers });
    scavenges.length = 0;
    const result = await load(url, { seconds: 4, connections: 10, headers });
    const kb = (bytes: number) => `${(bytes / result.requests / 1024).toFixed(1)} KB`;
    const kept = sum(scavenges, "promoted") + sum(scavenges, "semi_space_copied");
    const pause = (1000 * sum(scavenges, "pause")) / result.requests;
    console.log(
      `| ${label} | ${result.throughput.toFixed(0)} | ${kb(sum(scavenges, "allocated"))} | ${kb(kept)} | ${pause.toFixed(1)} µs |`,
    );
  } finally {
    await server.stop();
  }
}
