// Run by smoke.sh in the throw-away project: starts one quick start (copied there from
// examples/quick-start/) as its page says to, `tsx app.ts`, and walks it as Fred and Ginger
// would, with a client that keeps cookies, then stops it with SIGTERM:
//
//   node quick-start.mjs <file.ts> <SECRET_VARIABLE>
//
// Checked: without the secret it refuses to start, naming the variable; with it, it prints
// where it listens; a guarded page refuses an anonymous visitor with a 403 page; POST /ask
// prints Ginger's link; the link lands (302 off the token, a cookie), the guarded page admits
// her, the final POST clears her and 303s, after which the page refuses her again; SIGTERM ends
// the process with status 0; and the visit log, read back with the CLI from the same SQLite
// file, holds exactly her two guarded visits.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

const [file, secretVariable] = process.argv.slice(2);
assert.ok(file && secretVariable, "usage: node quick-start.mjs <file.ts> <SECRET_VARIABLE>");
// In the smoke project, which smoke.sh removes at the end.
const database = `sqlite:${join(mkdtempSync(join(process.cwd(), "quick-start-")), "passes.sqlite3")}`;
const started = Date.now();
const say = (text) => console.log(`${file}: ${text}`);

/** A free loopback port (the app binds it a moment later). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// Each app runs in a process group of its own (tsx runs the file in a child process): whatever
// happens here, none is left running once this script ends.
const groups = new Set();
process.on("exit", () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
});

/** Starts `tsx file` with `env`; its output is collected and can be waited on. */
function start(env) {
  const child = spawn("node_modules/.bin/tsx", [file], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // Which tsconfig tsx compiles with, when the caller names one (the NestJS quick start's).
      ...(process.env.TSX_TSCONFIG_PATH
        ? { TSX_TSCONFIG_PATH: process.env.TSX_TSCONFIG_PATH }
        : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  groups.add(child.pid);
  const app = { child, stdout: "", stderr: "", waiters: [] };
  const check = () => {
    app.waiters = app.waiters.filter((w) => !w());
  };
  child.stdout.on("data", (chunk) => {
    app.stdout += chunk;
    check();
  });
  child.stderr.on("data", (chunk) => {
    app.stderr += chunk;
  });
  app.exited = new Promise((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  /** Resolves with the first match of `pattern` in stdout, within `ms`. */
  app.waitFor = (pattern, ms) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no ${pattern} on stdout within ${ms} ms:\n${app.stdout}\n${app.stderr}`),
          ),
        ms,
      );
      app.waiters.push(() => {
        const match = pattern.exec(app.stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match);
        }
        return match !== null;
      });
      check();
      app.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new Error(`exited (${code ?? signal}) before ${pattern}:\n${app.stdout}\n${app.stderr}`),
        );
      });
    });
  return app;
}

/** Bounds a promise in time. */
function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A fetch that keeps cookies as a browser would (by name; this is one host) and never follows. */
function client(base) {
  const jar = new Map();
  return async (path, init = {}) => {
    const headers = { ...init.headers };
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const response = await fetch(new URL(path, base), {
      ...init,
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(10_000),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const expired = attributes.some((a) => {
        const [key = "", value = ""] = a.trim().split("=");
        if (key.toLowerCase() === "max-age") return Number(value) <= 0;
        if (key.toLowerCase() === "expires") return Date.parse(value) <= Date.now();
        return false;
      });
      if (expired) jar.delete(name);
      else jar.set(name, pair.slice(eq + 1).trim());
    }
    return { response, text: await response.text(), cookies: jar.size };
  };
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };

function expectPage({ response, text }, status, what) {
  assert.equal(response.status, status, `${what}: status ${response.status}\n${text}`);
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/, `${what}: not a page`);
}

// 1. Without its secret the app does not start, and says which variable to set.
{
  const app = start({ VISITOR_PASS_DATABASE_URL: database, PORT: String(await freePort()) });
  const { code } = await within(20_000, app.exited, "starting without the secret");
  assert.notEqual(code, 0, "started without its secret");
  assert.ok(
    app.stderr.includes(secretVariable),
    `stderr does not name ${secretVariable}:\n${app.stderr}`,
  );
  say(`without ${secretVariable}: exit status ${code}, the error names ${secretVariable}`);
}

// 2. With it: listening, and the story walked.
const port = await freePort();
const app = start({
  VISITOR_PASS_DATABASE_URL: database,
  PORT: String(port),
  [secretVariable]: "quick-start smoke test secret, 32+ characters long",
});
let uuid;
try {
  await app.waitFor(new RegExp(`^Listening on http://localhost:${port}$`, "m"), 20_000);
  const base = `http://127.0.0.1:${port}`;
  const fred = client(base);
  const ginger = client(base);

  const refused = await ginger("/reference");
  expectPage(refused, 403, "GET /reference without a pass");
  assert.match(refused.text, /<h1>403<\/h1>/);

  const home = await fred("/");
  expectPage(home, 200, "GET /");
  assert.match(home.text, /action="\/ask"/);
  const asked = await fred("/ask", { method: "POST", headers: FORM, body: "" });
  assert.equal(asked.response.status, 303, `POST /ask: ${asked.response.status}\n${asked.text}`);
  assert.equal(asked.response.headers.get("location"), "/");
  const [, printed] = await app.waitFor(/^Send Ginger this link: (\S+)$/m, 5_000);
  const link = new URL(printed);
  assert.equal(`${link.origin}${link.pathname}`, `http://localhost:${port}/reference`);
  uuid = link.searchParams.get("vuid");
  assert.match(uuid ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

  const landed = await ginger(`${link.pathname}${link.search}`);
  assert.equal(landed.response.status, 302, `landing: ${landed.response.status}\n${landed.text}`);
  assert.equal(new URL(landed.response.headers.get("location") ?? "", base).pathname, "/reference");
  assert.ok(!landed.response.headers.get("location")?.includes("vuid"), "the token is kept");
  assert.ok(landed.cookies > 0, "landing set no cookie");

  const page = await ginger("/reference");
  expectPage(page, 200, "GET /reference with the pass");
  assert.match(page.text, /Hello Ginger, Fred asks you for a reference\./);
  assert.match(page.response.headers.get("cache-control") ?? "", /no-store/);

  const sent = await ginger("/reference", {
    method: "POST",
    headers: FORM,
    body: "text=Reliable.",
  });
  assert.equal(sent.response.status, 303, `POST /reference: ${sent.response.status}\n${sent.text}`);
  assert.equal(sent.response.headers.get("location"), "/thanks");
  expectPage(await ginger("/thanks"), 200, "GET /thanks");
  expectPage(await ginger("/reference"), 403, "GET /reference after the final step");
  say(
    "403 page without a pass; link printed; landed (302, cookie); 200 guarded page; 303 final step; 403 after",
  );
} catch (error) {
  console.error(`${file} stdout:\n${app.stdout}\n${file} stderr:\n${app.stderr}`);
  throw error;
}

// 3. SIGTERM: a clean exit, the visit logs written.
app.child.kill("SIGTERM");
const { code, signal } = await within(15_000, app.exited, "exiting on SIGTERM");
assert.equal(code, 0, `on SIGTERM: exit ${code ?? signal}\n${app.stderr}`);
assert.equal(app.stderr.trim(), "", `stderr:\n${app.stderr}`);
say("SIGTERM: exit status 0, nothing on stderr");

const logs = JSON.parse(
  execFileSync("node_modules/.bin/visitor-pass", ["--database", database, "logs", uuid, "--json"], {
    encoding: "utf8",
    timeout: 20_000,
  }),
);
const visits = logs.map((log) => `${log.httpMethod} ${log.requestUri} ${log.statusCode}`).sort();
assert.deepEqual(visits, ["GET /reference 200", "POST /reference 303"]);
say(`visitor-pass logs ${uuid}: ${visits.join(", ")}`);
say(`ok in ${((Date.now() - started) / 1000).toFixed(1)} s`);
