/**
 * The Next.js example (examples/next/) as it ships: built with `next build` against this
 * repository's build (dist/), served with `next start` on 127.0.0.1 against a temporary SQLite
 * database, and walked: Ginger's link admits her through the proxy, her guarded page greets her,
 * her visit is logged, anyone else gets Next's 403, and her pass deactivated ends her access.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVisitorPass, type VisitorPass } from "../../src/index.js";
import { Client } from "../behaviour/client.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXAMPLE = join(ROOT, "examples/next");
const NEXT = join(ROOT, "node_modules/next/dist/bin/next");
const run = promisify(execFile);

/** The longest the package's build and the example's `next build` may take. */
const BUILD_TIMEOUT_MS = 180_000;
const SECRET = "an example test secret of 32+ characters";
const ENV = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", VISITOR_PASS_SECRET: SECRET };

async function exec(file: string, args: string[], cwd: string): Promise<void> {
  try {
    await run(file, args, {
      cwd,
      timeout: BUILD_TIMEOUT_MS,
      killSignal: "SIGKILL",
      maxBuffer: 32 * 1024 * 1024,
      env: ENV,
    });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: error });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** `next start`, in a process group of its own, once it answers. */
async function start(database: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [NEXT, "start", "-H", "127.0.0.1", "-p", String(port)],
    {
      cwd: EXAMPLE,
      env: { ...ENV, NODE_ENV: "production", VISITOR_PASS_DATABASE_URL: database },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, "SIGTERM");
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const by = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited:\n${output}`);
    try {
      if ((await fetch(`${url}/thanks`)).status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > by) {
      await stop();
      throw new Error(`next start did not answer within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, stop };
}

describe("example: next", () => {
  let dir: string;
  let app: { url: string; stop(): Promise<void> };
  /** The same database as the server's, to make passes and read their logs. */
  let passes: VisitorPass;

  beforeAll(async () => {
    // The example resolves visitor-pass to this repository's build, as an app to node_modules.
    if (!existsSync(join(ROOT, "dist/adapters/next/index.js"))) {
      await exec(
        process.execPath,
        [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
        ROOT,
      );
    }
    await exec(process.execPath, [NEXT, "build"], EXAMPLE);
    dir = await mkdtemp(join(tmpdir(), "visitor-pass-next-example-"));
    const database = `sqlite:${join(dir, "passes.sqlite3")}`;
    passes = createVisitorPass({ database, env: {} });
    await passes.migrate();
    app = await start(database);
  }, 2 * BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await app?.stop();
    await passes?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("admits Ginger by her link, greets and logs her, refuses others, and ends with her pass", async () => {
    const ginger = await passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      scope: "REFERENCE_REQUEST",
    });
    const stranger = new Client(app.url, { redirect: "manual" });
    expect((await stranger.get("/reference")).status).toBe(403);

    const browser = new Client(app.url, { redirect: "manual" });
    const landing = await browser.get(passes.tokenise("/reference", ginger));
    expect(landing.status).toBe(302);
    expect(new URL(landing.headers.get("location")!, app.url).pathname).toBe("/reference");
    expect(landing.headers.get("location")).not.toContain(ginger.uuid);

    const page = await browser.get("/reference");
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/Hello (<!-- -->)?Ginger/);
    const by = Date.now() + 5_000;
    while ((await passes.logs(ginger.uuid)).length === 0 && Date.now() < by) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await passes.logs(ginger.uuid))[0]).toMatchObject({
      httpMethod: "GET",
      requestUri: "/reference",
    });

    await passes.deactivate(ginger.uuid);
    expect((await browser.get("/reference")).status).toBe(403);
  });
});
