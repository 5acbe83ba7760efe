/**
 * The SvelteKit example (examples/sveltekit/) as it ships: generated types checked, built once
 * with Vite and adapter-node, then its built server started on 127.0.0.1 against a temporary
 * SQLite database and walked by people with cookie-keeping browsers. Its only visitor-pass glue
 * is `src/hooks.server.ts` over the Fetch entry point.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
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
const EXAMPLE = join(ROOT, "examples/sveltekit");
const bin = (path: string) => join(ROOT, "node_modules", path);
const run = promisify(execFile);

/** The longest the example's build (sync, then `vite build`) may take. */
const BUILD_TIMEOUT_MS = 150_000;
const SECRET = "s".repeat(32);

/** `node <script> <args>` in the example's folder, failing with its output after `timeout`. */
async function node(script: string, args: string[], timeout: number): Promise<void> {
  try {
    await run(process.execPath, [script, ...args], {
      cwd: EXAMPLE,
      timeout,
      killSignal: "SIGKILL",
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, NODE_ENV: "production" },
    });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${script} ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: error });
  }
}

/** A port nothing listens on now. */
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

interface Started {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The built server (`node build`), once it says it listens. */
async function start(database: string): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["build/index.js"], {
    cwd: EXAMPLE,
    env: {
      ...process.env,
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(port),
      // adapter-node takes a request's origin from here (else https and the Host header).
      ORIGIN: url,
      VISITOR_PASS_DATABASE_URL: database,
      VISITOR_PASS_SECRET: SECRET,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`The built server did not listen within 15 s:\n${output}`));
    }, 15_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Listening on")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`The built server exited with ${code}:\n${output}`));
    });
  });
  return { url, child, stop };
}

const decode = (text: string) => text.replace(/&amp;/g, "&");

describe("example: sveltekit", () => {
  let dir: string;
  let app: Started;
  /** The same database as the server's, to make passes and read their logs. */
  let passes: VisitorPass;
  /** What a browser sends with a form: SvelteKit refuses form posts from another origin. */
  let form: Record<string, string>;

  beforeAll(async () => {
    await node(bin("@sveltejs/kit/svelte-kit.js"), ["sync"], 30_000);
    await node(bin("vite/bin/vite.js"), ["build", "--logLevel", "warn"], BUILD_TIMEOUT_MS);
    dir = await mkdtemp(join(tmpdir(), "visitor-pass-sveltekit-"));
    const database = `sqlite:${join(dir, "passes.sqlite3")}`;
    app = await start(database);
    passes = createVisitorPass({ database, env: {} });
    form = {
      "content-type": "application/x-www-form-urlencoded",
      accept: "text/html",
      origin: app.url,
    };
  }, BUILD_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await app?.stop();
    await passes?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("type-checks with the types SvelteKit generates", async () => {
    await node(bin("typescript/bin/tsc"), ["-p", "tsconfig.json"], 120_000);
  }, 150_000);

  it("Fred invites Ginger; her link opens the two-step reference, which ends her visit", async () => {
    const fred = new Client(app.url);
    expect(await (await fred.get("/")).text()).toContain("None yet.");
    const invitation = await (await fred.post("/invite", { headers: form })).text();
    const link = decode(/<a href="([^"]*vuid=[^"]*)"/.exec(invitation)?.[1] ?? "");
    expect(link.startsWith(`${app.url}/reference?vuid=`)).toBe(true);
    const uuid = new URL(link).searchParams.get("vuid")!;

    // Landing: sent on to the same page without the token, with the visitor's cookie.
    const ginger = new Client(app.url, { redirect: "manual" });
    const landing = await ginger.get(link.slice(app.url.length));
    expect(landing.status).toBe(302);
    expect(landing.headers.get("location")).toBe("/reference");
    expect(await ginger.cookie("visitor_pass")).toBeTruthy();

    const page = await ginger.get("/reference");
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toContain("no-store");
    expect(await page.text()).toContain("Hello Ginger, Fred asks you for a reference.");
    const logs = await logsOf(uuid, 1);
    expect(logs.map((log) => [log.httpMethod, log.requestUri, log.statusCode])).toEqual([
      ["GET", "/reference", 200],
    ]);
    expect(logs[0]?.remoteAddr).toBe("127.0.0.1");

    // The final step: sent, and her browser is a stranger again.
    const sent = await ginger.post("/reference", {
      headers: form,
      body: "text=Fred+is+<reliable>.",
    });
    expect(sent.status).toBe(200);
    expect(await sent.text()).toContain("Thank you.");
    expect((await logsOf(uuid, 2)).map((log) => [log.httpMethod, log.statusCode])).toEqual([
      ["POST", 200],
      ["GET", 200],
    ]);
    expect((await ginger.get("/reference")).status).toBe(403);

    const home = await (await fred.get("/")).text();
    expect(home).toContain("Fred is &lt;reliable>.");
    expect(home).toContain("Ginger Rogers");
  });

  it("a pass of another scope is refused on the reference page (403)", async () => {
    const vera = await passes.create({
      email: "vera@example.org",
      firstName: "Vera",
      lastName: "Other",
      scope: "EARLY_ACCESS",
    });
    const browser = new Client(app.url);
    const refused = await browser.get(passes.tokenise("/reference", vera));
    expect(refused.status).toBe(403);
    expect(new URL(refused.url).search).toBe("");
    // The pass is good where its scope is.
    const welcome = await browser.get("/early-access");
    expect(welcome.status).toBe(200);
    expect(await welcome.text()).toContain("Welcome, Vera Other.");
  });

  it("no one is admitted by a cross-site POST carrying a token, whatever its body", async () => {
    const fred = await passes.create({
      email: "fred@example.org",
      firstName: "Fred",
      lastName: "Astaire",
      scope: "REFERENCE_REQUEST",
    });
    const target = `${passes.tokenise("/reference", fred)}&vuid-confirm=1`;
    const crossSite = { origin: "https://evil.example", "sec-fetch-site": "cross-site" };
    const mallory = new Client(app.url, { redirect: "manual" });
    // A form: SvelteKit refuses it before any hook runs.
    const formPost = await mallory.post(target, {
      headers: { ...form, ...crossSite },
      body: "text=forged",
    });
    expect(formPost.status).toBe(403);
    // Any other body reaches the hook, where visitor-pass ignores the token: the guard refuses.
    const other = await mallory.post(target, {
      headers: { ...crossSite, "content-type": "application/json" },
      body: "{}",
    });
    expect(other.status).toBe(403);
    expect(other.headers.getSetCookie().join()).not.toContain("visitor_pass=");
    expect(await mallory.cookie("visitor_pass")).toBeUndefined();
    expect((await mallory.get("/reference")).status).toBe(403);
    expect(await passes.logs(fred.uuid)).toEqual([]);
    // The link itself still works, by a GET.
    const browser = new Client(app.url);
    expect((await browser.get(passes.tokenise("/reference", fred))).status).toBe(200);
  });

  it("someone without a pass asks for one on the self-service form and gets in by its link", async () => {
    const visitor = new Client(app.url);
    const formPage = await visitor.get("/early-access");
    expect(formPage.status).toBe(200);
    expect(formPage.url).toMatch(/\/visitors\/self-service\/[0-9a-f-]{36}$/);
    const sent = await visitor.post(new URL(formPage.url).pathname, {
      headers: { ...form, "sec-fetch-site": "same-origin" },
      body: "firstName=Sam&lastName=Self&email=sam%40example.org",
    });
    expect(sent.status).toBe(200);
    expect(sent.url).toMatch(/\/visitors\/self-service\/sent$/);

    const outbox = await (await visitor.get("/outbox")).text();
    const link = decode(/To sam@example\.org: <a href="([^"]+)"/.exec(outbox)?.[1] ?? "");
    expect(link).toMatch(/^\/early-access\?vuid=/);
    const welcome = await visitor.get(link);
    expect(welcome.status).toBe(200);
    expect(await welcome.text()).toContain("Welcome, Sam Self.");
  });

  /** The pass's visit logs once there are `count` of them (they are written after the response). */
  async function logsOf(uuid: string, count: number) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const logs = await passes.logs(uuid);
      if (logs.length >= count) return logs;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return passes.logs(uuid);
  }
});
