/**
 * A real app process under keep-alive load is sent SIGTERM: it must exit within its close bound,
 * every guarded response the client received must have its visit-log row (and no row be written
 * for a response that never arrived), and no request may fail with anything but a 503.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { VisitorPass } from "../../src/index.js";
import { DEFAULT_CLOSE_TIMEOUT } from "../../src/server/graceful-close.js";
import { DATABASES, openPasses, type TestDatabase } from "../support/databases.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVER = "test/shutdown/fixture-server.ts";
const FRAMEWORKS = ["express", "fastify", "hono"] as const;
/** The close bound the app is given, in milliseconds. */
const CLOSE_TIMEOUT = 2_000;
/** What the process may take beyond it (writing the logs, closing the store, exiting). */
const EXIT_MARGIN = 2_000;
/** Keep-alive connections the load runs over. */
const CONNECTIONS = 4;
/** Bounds of the load: requests per connection, and time. */
const MAX_REQUESTS = 5_000;
const MAX_LOAD_MS = 15_000;

const tmp = mkdtempSync(join(tmpdir(), "visitor-pass-shutdown-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** SQLite in a file (the process and the test share it); the others as configured. */
function databaseFor(database: TestDatabase, framework: string): TestDatabase {
  if (database.name !== "sqlite") return database;
  return { ...database, url: `sqlite:${join(tmp, `${framework}.sqlite3`)}` };
}

interface AppProcess {
  port: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

function startApp(framework: string, url: string, prefix: string): Promise<AppProcess> {
  return spawnApp(framework, SERVER, {
    FRAMEWORK: framework,
    DATABASE: url,
    TABLE_PREFIX: prefix,
    CLOSE_TIMEOUT: String(CLOSE_TIMEOUT),
  });
}

/** Runs `script` with tsx and waits for the port it prints ("READY <port>" or its URL). */
function spawnApp(name: string, script: string, env: Record<string, string>): Promise<AppProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within 15 s:\n${stderr}`));
    }, 15_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const port = /(?:READY |http:\/\/[\w.]+:)(\d+)/.exec(stdout)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve({ port: Number(port), child, exited, stderr: () => stderr });
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was ready:\n${stderr}`));
    });
  });
}

interface Answer {
  status: number;
  connection: string | undefined;
  /** Whether the request was sent after the signal. */
  afterSignal: boolean;
}

interface Failure {
  error: string;
  /** The request went out on a connection already open (so the server may have read it). */
  reused: boolean;
}

function get(
  agent: http.Agent,
  port: number,
  path: string,
  cookie: string | null,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: "127.0.0.1", port, path, agent, headers: cookie ? { cookie } : {} },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", (error: NodeJS.ErrnoException) => {
      Object.assign(error, { reused: request.reusedSocket });
      reject(error);
    });
  });
}

/** Lands with the pass's link and returns the session cookie it set. */
async function land(
  port: number,
  passes: VisitorPass,
  uuid: string,
  path: string,
): Promise<string> {
  const agent = new http.Agent({ keepAlive: false });
  const response = await get(agent, port, passes.tokenise(path, uuid), null);
  agent.destroy();
  expect(response.status).toBe(302);
  const cookies = response.headers["set-cookie"] ?? [];
  expect(cookies.length).toBeGreaterThan(0);
  return cookies.map((cookie) => cookie.split(";")[0]).join("; ");
}

interface Load {
  answers: Answer[];
  failures: Failure[];
  /** Requests refused a connection after the signal (the server no longer listens): not sent. */
  refused: number;
}

/**
 * `CONNECTIONS` loops of guarded requests over keep-alive connections, until each is refused a
 * connection, fails, or hits a bound. `signalled()` tells whether SIGTERM was sent.
 */
async function runLoad(
  port: number,
  path: string,
  cookie: string,
  signalled: () => boolean,
  onAnswer: () => void,
): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const load: Load = { answers: [], failures: [], refused: 0 };
  const deadline = Date.now() + MAX_LOAD_MS;
  const loop = async () => {
    for (let i = 0; i < MAX_REQUESTS && Date.now() < deadline; i++) {
      const afterSignal = signalled();
      try {
        const response = await get(agent, port, path, cookie);
        load.answers.push({
          status: response.status,
          connection: response.headers.connection,
          afterSignal,
        });
        onAnswer();
      } catch (error) {
        const { code, message, reused } = error as NodeJS.ErrnoException & { reused: boolean };
        if (code === "ECONNREFUSED" && signalled()) load.refused += 1;
        else load.failures.push({ error: `${code ?? ""} ${message}`, reused });
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  agent.destroy();
  return load;
}

async function rowsOf(passes: VisitorPass, uuid: string): Promise<number> {
  return (await passes.logs(uuid)).length;
}

/**
 * Lands with the pass, puts the app under keep-alive load on `path`, sends SIGTERM mid-load and
 * checks what a client and the database observe.
 */
async function expectCleanStop(
  app: AppProcess,
  passes: VisitorPass,
  uuid: string,
  path: string,
  bound: number,
): Promise<void> {
  const cookie = await land(app.port, passes, uuid, path);
  let sentAt = 0;
  let answered = 0;
  const signalled = () => sentAt > 0;
  const { answers, failures, refused } = await runLoad(app.port, path, cookie, signalled, () => {
    answered += 1;
    // Mid-load: once the app has served some, while every connection is busy.
    if (answered === 300 && !signalled()) {
      sentAt = Date.now();
      app.child.kill("SIGTERM");
    }
  });
  const exit = await app.exited;
  const tookMs = Date.now() - sentAt;

  expect(signalled()).toBe(true);
  expect(exit, app.stderr()).toEqual({ code: 0, signal: null });
  expect(tookMs).toBeLessThan(bound + EXIT_MARGIN);
  expect(failures).toEqual([]);
  const statuses = new Set(answers.map((answer) => answer.status));
  statuses.delete(200);
  statuses.delete(503);
  expect([...statuses]).toEqual([]);
  // Responses to requests sent once the app was draining ask the client to go away.
  const late = answers.filter((answer) => answer.afterSignal);
  expect(late.some((answer) => answer.connection === "close")).toBe(true);
  expect(refused + late.length).toBeGreaterThan(0);

  const ok = answers.filter((answer) => answer.status === 200).length;
  expect(await rowsOf(passes, uuid)).toBe(ok);
}

describe.each(DATABASES)("graceful close on $name", (database) => {
  describe.each(FRAMEWORKS)("%s", (framework) => {
    it.skipIf(database.skipped !== null)(
      "SIGTERM under keep-alive load: exits within the bound, one visit row per 2xx, only 503s fail",
      async () => {
        const { passes, prefix, cleanup } = await openPasses(databaseFor(database, framework));
        const app = await startApp(framework, databaseFor(database, framework).url!, prefix);
        try {
          const visitor = await passes.create({ email: "v@example.org", scope: "SHUTDOWN" });
          await expectCleanStop(app, passes, visitor.uuid, "/guarded", CLOSE_TIMEOUT);
        } finally {
          if (app.child.exitCode === null && app.child.signalCode === null) {
            app.child.kill("SIGKILL");
          }
          await cleanup();
        }
      },
      30_000,
    );
  });
});

describe.each(FRAMEWORKS)("graceful close bound: %s", (framework) => {
  it("a request still running at the bound is cut, and the process exits", async () => {
    const sqlite = databaseFor(DATABASES[0]!, `${framework}-stuck`);
    const { prefix, cleanup } = await openPasses(sqlite);
    const app = await startApp(framework, sqlite.url!, prefix);
    try {
      const agent = new http.Agent({ keepAlive: true });
      const stuck = get(agent, app.port, "/stuck", null).then(
        () => "answered",
        () => "cut",
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const sentAt = Date.now();
      app.child.kill("SIGTERM");
      const exit = await app.exited;
      const tookMs = Date.now() - sentAt;
      expect(exit, app.stderr()).toEqual({ code: 0, signal: null });
      expect(tookMs).toBeGreaterThanOrEqual(CLOSE_TIMEOUT - 100);
      expect(tookMs).toBeLessThan(CLOSE_TIMEOUT + EXIT_MARGIN);
      expect(await stuck).toBe("cut");
      agent.destroy();
    } finally {
      if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill("SIGKILL");
      await cleanup();
    }
  }, 30_000);
});

/** The examples as they are run: their own server.ts, SQLite in a file, the default bound. */
const EXAMPLES: [string, string][] = [
  ["express-demo", "examples/express-demo/server.ts"],
  ["fastify", "examples/fastify/server.ts"],
  ["hono", "examples/hono/server.ts"],
  ["nestjs", "examples/nestjs/server.ts"],
];

describe.each(EXAMPLES)("example %s on SIGTERM", (name, script) => {
  it("exits under keep-alive load with every visit of a received 2xx logged", async () => {
    const url = `sqlite:${join(tmp, `example-${name}.sqlite3`)}`;
    const { passes, cleanup } = await openPasses(
      { name: "sqlite", url, sql: true, skipped: null },
      { tablePrefix: "visitor_pass_" },
    );
    const app = await spawnApp(name, script, {
      VISITOR_PASS_DATABASE_URL: url,
      PORT: "0",
      HOST: "127.0.0.1",
      SESSION_SECRET: "s".repeat(32),
      VISITOR_PASS_SECRET: "v".repeat(32),
    });
    try {
      const visitor = await passes.create({
        email: "ginger@example.org",
        firstName: "Ginger",
        scope: "REFERENCE_REQUEST",
      });
      await expectCleanStop(app, passes, visitor.uuid, "/reference", DEFAULT_CLOSE_TIMEOUT);
    } finally {
      if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill("SIGKILL");
      await cleanup();
    }
  }, 30_000);
});
