import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import autocannon from "autocannon";

export interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `script` in its own Node process (with `nodeArgs` before it, e.g. a TypeScript loader,
 * and `args` after it) and waits until its output matches `ready`, whose first group is the port
 * it listens on.
 */
export async function startServer(
  script: string,
  env: Record<string, string>,
  {
    nodeArgs = [],
    args = [],
    ready = /READY (\d+)/,
    group = false,
  }: {
    nodeArgs?: string[];
    args?: string[];
    ready?: RegExp;
    /** The server starts processes of its own (`next start`): stopped as a process group. */
    group?: boolean;
  } = {},
): Promise<Server> {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    env: { ...process.env, ...env, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "inherit"],
    detached: group,
  });
  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) =>
      reject(new Error(`${script} exited with ${code} before it was ready`)),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      if (group) return stopGroup(child.pid!);
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

/** Ends the process group `pid` leads, waiting (at most 10 s) until none of it is left. */
async function stopGroup(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(-pid, "SIGTERM");
  for (let waited = 0; alive() && waited < 10_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (alive()) process.kill(-pid, "SIGKILL");
}

/** The session cookie a response sets (its body read, so that the connection is free). */
export async function cookieOf(response: Response): Promise<string> {
  await response.arrayBuffer();
  const cookie = response.headers.get("set-cookie");
  if (!cookie) throw new Error(`no session cookie (status ${response.status})`);
  return cookie.split(";")[0]!;
}

/**
 * The bench server `script` in its visitor mode (`env` picks the database and the variant), with
 * one unlimited pass, and the cookie of a session admitted by it.
 */
export async function startVisitorApp(script: string, env: Record<string, string>) {
  return admitVisitor(await startServer(script, { BENCH_MODE: "visitor", ...env }));
}

/**
 * One unlimited pass made by a bench server in its visitor mode (`POST /bench/pass`), and the
 * cookie of a session its landing (`GET <route>?vuid=…`) admitted.
 */
export async function admitVisitor(server: Server, route = "/reference") {
  const pass = await fetch(`${server.url}/bench/pass`, { method: "POST" });
  const { uuid } = (await pass.json()) as { uuid: string };
  const landing = await fetch(`${server.url}${route}?vuid=${uuid}`, { redirect: "manual" });
  if (landing.status !== 302) throw new Error(`landing answered ${landing.status}`);
  return { server, uuid, cookie: await cookieOf(landing) };
}

export interface LoadResult {
  requests: number;
  throughput: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  errors: number;
  non2xx: number;
}

/**
 * Drives `url` with autocannon for `seconds`, `connections` at once; with `until`, from then on
 * until that settles instead (`seconds` is then an upper bound).
 */
export async function load(
  url: string,
  options: {
    seconds: number;
    connections: number;
    headers?: Record<string, string>;
    requests?: autocannon.Request[];
    until?: Promise<unknown>;
  },
): Promise<LoadResult> {
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        duration: options.seconds,
        connections: options.connections,
        headers: options.headers,
        requests: options.requests,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    const stop = () => instance.stop();
    options.until?.then(stop, stop);
  });
  return {
    requests: result.requests.total,
    throughput: result.requests.average,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    latencyMax: result.latency.max,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
