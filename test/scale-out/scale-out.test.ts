/**
 * The scale-out example (examples/scale-out/) as it runs in production: two app processes, passes
 * in PostgreSQL, sessions in Redis. Requests alternate between the processes the way a
 * round-robin balancer would send them. Needs VISITOR_PASS_TEST_POSTGRES_URL and
 * VISITOR_PASS_TEST_REDIS_URL; skipped without them, failing instead with
 * VISITOR_PASS_REQUIRE_SERVICES=1.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REFERENCE } from "../../examples/scale-out/app.js";
import { createVisitorPass, type VisitorPass } from "../../src/index.js";

const POSTGRES_URL = process.env.VISITOR_PASS_TEST_POSTGRES_URL?.trim() || null;
const REDIS_URL = process.env.VISITOR_PASS_TEST_REDIS_URL?.trim() || null;
const missing = [
  POSTGRES_URL ? null : "VISITOR_PASS_TEST_POSTGRES_URL",
  REDIS_URL ? null : "VISITOR_PASS_TEST_REDIS_URL",
].filter((name) => name !== null);
const skipped =
  missing.length > 0
    ? `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set`
    : null;
if (skipped && process.env.VISITOR_PASS_REQUIRE_SERVICES === "1") {
  throw new Error(
    `${skipped}, and VISITOR_PASS_REQUIRE_SERVICES=1 forbids skipping the scale-out test.`,
  );
}
if (skipped) console.warn(`[visitor-pass tests] SKIPPING scale-out: ${skipped}.`);

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVER = "examples/scale-out/server.ts";

interface AppProcess {
  name: string;
  url: string;
  pid: number;
  child: ChildProcess;
  /** SIGTERM, then the exit code (SIGKILL after a few seconds without one). */
  stop(): Promise<number | null>;
}

/** Starts one app process (`node --import tsx server.ts`) and waits for "READY <port>". */
function startApp(name: string, env: Record<string, string>): Promise<AppProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", SERVER], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: "0", HOST: "127.0.0.1", NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
  });
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  return new Promise<AppProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${name} did not print READY within 15 s. stderr:\n${stderr}`));
    }, 15_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const port = /READY (\d+)/.exec(stdout)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve({ name, url: `http://127.0.0.1:${port}`, pid: child.pid!, child, stop });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready. stderr:\n${stderr}`));
    });
  });
}

interface Reply {
  status: number;
  body: any;
  location: string | null;
  /** The `sid=…` pair of a session cookie set by this response. */
  setCookie: string | null;
}

async function get(app: AppProcess, path: string, cookie: string | null = null): Promise<Reply> {
  const response = await fetch(`${app.url}${path}`, {
    redirect: "manual",
    headers: cookie ? { cookie } : {},
  });
  const text = await response.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  const sid = response.headers.getSetCookie().find((c) => c.startsWith("sid="));
  return {
    status: response.status,
    body,
    location: response.headers.get("location"),
    setCookie: sid ? sid.split(";")[0]! : null,
  };
}

/** One person's browser: keeps the session cookie, whichever process set it. */
class Browser {
  cookie: string | null = null;

  async get(app: AppProcess, path: string): Promise<Reply> {
    const reply = await get(app, path, this.cookie);
    if (reply.setCookie) this.cookie = reply.setCookie;
    return reply;
  }
}

/**
 * The same suite twice: by default every request reads its pass; with `passCache: "listen"` each
 * process caches passes and learns of changes by notification, a moment after the commit.
 */
const MODES = [
  { name: "every request reads its pass", passCache: null },
  { name: 'passCache: "listen"', passCache: "listen" },
] as const;

describe.skipIf(skipped !== null).each(MODES)(
  `scale-out: two app processes, passes in PostgreSQL, sessions in Redis ($name)${skipped ? ` (skipped: ${skipped})` : ""}`,
  ({ passCache }) => {
    /**
     * `request` answers `status`: on the very next request by default; under "listen", once the
     * notice of the change has reached that process (within a second).
     */
    async function answers(status: number, request: () => Promise<Reply>): Promise<void> {
      const deadline = Date.now() + (passCache === "listen" ? 1000 : 0);
      for (;;) {
        const reply = await request();
        if (reply.status === status || Date.now() >= deadline) {
          expect(reply.status).toBe(status);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }

    const suffix = randomBytes(4).toString("hex");
    const tablePrefix = `scaleout_${suffix}_`;
    const sessionPrefix = `visitor-pass-test:scale-out:${suffix}:`;
    let a: AppProcess | undefined;
    let b: AppProcess | undefined;
    let passes: VisitorPass | undefined;

    beforeAll(async () => {
      const env = {
        DATABASE_URL: POSTGRES_URL!,
        REDIS_URL: REDIS_URL!,
        SESSION_SECRET: randomBytes(32).toString("hex"),
        VISITOR_PASS_TABLE_PREFIX: tablePrefix,
        SESSION_PREFIX: sessionPrefix,
        ...(passCache ? { PASS_CACHE: passCache } : {}),
      };
      // Started together, so both run `passes.migrate()` on the empty tables at the same time.
      const started = await Promise.allSettled([startApp("A", env), startApp("B", env)]);
      for (const result of started) {
        if (result.status === "fulfilled") {
          if (!a) a = result.value;
          else b = result.value;
        }
      }
      const failure = started.find((result) => result.status === "rejected");
      if (failure) throw failure.reason;
      // The staff side: this test process, on the same tables.
      passes = createVisitorPass({ database: POSTGRES_URL!, tablePrefix, env: {} });
      await passes.migrate();
    });

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await passes?.close();
      const db = new pg.Client({ connectionString: POSTGRES_URL! });
      await db.connect();
      try {
        for (const table of ["visitor_logs", "visitors", "migrations", "migrations_lock"]) {
          await db.query(`drop table if exists "${tablePrefix}${table}"`);
        }
        await db.query(`drop function if exists "${tablePrefix}visitors_notify"()`);
      } finally {
        await db.end();
      }
      const redis = createClient({ url: REDIS_URL! });
      await redis.connect();
      try {
        for await (const keys of redis.scanIterator({ MATCH: `${sessionPrefix}*`, COUNT: 100 })) {
          if (keys.length > 0) await redis.del(keys);
        }
      } finally {
        await redis.close();
      }
    });

    const ginger = (extra: { maxUses?: number } = {}) =>
      passes!.create({
        email: "ginger@example.com",
        firstName: "Ginger",
        scope: REFERENCE,
        ...extra,
      });

    it("runs two distinct processes", () => {
      expect(a!.pid).not.toBe(b!.pid);
      expect(a!.url).not.toBe(b!.url);
    });

    it("a visitor admitted on A is known on B, request after request", async () => {
      const visitor = await ginger();
      const browser = new Browser();

      const landing = await browser.get(a!, passes!.tokenise("/reference", visitor));
      expect(landing.status).toBe(302);
      expect(landing.location).toBe("/reference");
      expect(browser.cookie).not.toBeNull();

      const onB = await browser.get(b!, "/reference");
      expect(onB.status).toBe(200);
      expect(onB.body.visitor.uuid).toBe(visitor.uuid);
      expect(onB.body.pid).toBe(b!.pid);
      expect(onB.body.pid).not.toBe(a!.pid);

      // Round robin, as a balancer would: every request admitted, by both processes.
      const pids = new Set<number>();
      for (let i = 0; i < 6; i++) {
        const reply = await browser.get(i % 2 === 0 ? a! : b!, "/reference");
        expect(reply.status).toBe(200);
        expect(reply.body.visitor.uuid).toBe(visitor.uuid);
        pids.add(reply.body.pid);
      }
      expect(pids).toEqual(new Set([a!.pid, b!.pid]));
      expect((await browser.get(b!, "/whoami")).body.visitor.email).toBe("ginger@example.com");
      // The landing spent the one use; the session did the rest.
      expect((await passes!.get(visitor.uuid))!.uses).toBe(1);
      // No cookie, no visitor, on either process.
      expect((await get(a!, "/reference")).status).toBe(403);
      expect((await get(b!, "/reference")).status).toBe(403);
    });

    it("a deactivation is felt by both processes (by default on the very next request)", async () => {
      const visitor = await ginger();
      const browser = new Browser();
      expect((await browser.get(b!, passes!.tokenise("/reference", visitor))).status).toBe(302);
      expect((await browser.get(a!, "/reference")).status).toBe(200);
      expect((await browser.get(b!, "/reference")).status).toBe(200);

      await passes!.deactivate(visitor.uuid);
      await answers(403, () => browser.get(a!, "/reference"));
      expect((await browser.get(b!, "/reference")).status).toBe(403);
      expect((await browser.get(b!, "/whoami")).body.visitor).toBeNull();

      await passes!.reactivate(visitor.uuid);
      // The session dropped the pass when A refused it (saved to Redis): B agrees, and a new
      // click is needed.
      expect((await browser.get(b!, "/reference")).status).toBe(403);
      const click = await browser.get(a!, passes!.tokenise("/reference", visitor));
      expect(click.status).toBe(302);
      expect((await browser.get(b!, "/reference")).status).toBe(200);
      expect((await browser.get(a!, "/reference")).status).toBe(200);

      // And the other way round: deactivated right after a request on B, refused on B and A.
      await passes!.deactivate(visitor.uuid);
      await answers(403, () => browser.get(b!, "/reference"));
      expect((await browser.get(a!, "/reference")).status).toBe(403);
    });

    it("a one-use link clicked 40 times at once, across both processes, admits exactly once", async () => {
      const visitor = await ginger({ maxUses: 1 });
      const link = passes!.tokenise("/reference", visitor);
      const apps = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a! : b!));
      const replies = await Promise.all(apps.map((app) => get(app, link)));

      const admitted = replies.filter((reply) => reply.status === 302);
      expect(admitted).toHaveLength(1);
      expect(replies.filter((reply) => reply.status === 403)).toHaveLength(39);
      expect(replies.filter((reply) => reply.setCookie !== null)).toHaveLength(1);
      expect((await passes!.get(visitor.uuid))!.uses).toBe(1);

      // The one admitted browser is a visitor on both processes.
      const cookie = admitted[0]!.setCookie;
      for (const app of [a!, b!]) {
        const reply = await get(app, "/reference", cookie);
        expect(reply.status).toBe(200);
        expect(reply.body.visitor.uuid).toBe(visitor.uuid);
      }
    });

    it("stops cleanly on SIGTERM, with every visit log written", async () => {
      const visitor = await ginger();
      const browser = new Browser();
      expect((await browser.get(a!, passes!.tokenise("/reference", visitor))).status).toBe(302);
      for (let i = 0; i < 10; i++) {
        expect((await browser.get(i % 2 === 0 ? b! : a!, "/reference")).status).toBe(200);
      }
      expect(await Promise.all([a!.stop(), b!.stop()])).toEqual([0, 0]);
      const logs = await passes!.logs(visitor.uuid);
      expect(logs).toHaveLength(10);
      expect(logs.every((log) => log.statusCode === 200 && log.requestUri === "/reference")).toBe(
        true,
      );
    });
  },
);
