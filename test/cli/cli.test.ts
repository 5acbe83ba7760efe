// Runs the built `visitor-pass` binary (dist/cli/index.js) as a user would, against a temp
// SQLite file. Builds dist/ first when it is missing or older than the sources.
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KyselyStore } from "../../src/store/kysely/kysely-store.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist", "cli", "index.js");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

let dir: string;
let file: string;

beforeAll(() => {
  if (!existsSync(bin) || statSync(bin).mtimeMs < newestSource(join(root, "src"))) {
    const build = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
    // tsc emits even when a file elsewhere has a type error; only a missing binary stops us.
    if (!existsSync(bin)) {
      throw new Error(`npm run build did not produce ${bin}:\n${build.stdout}\n${build.stderr}`);
    }
  }
  dir = mkdtempSync(join(tmpdir(), "visitor-pass-bin-"));
  file = join(dir, "passes.sqlite3");
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The environment without any VISITOR_* setting of the machine running the tests. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("VISITOR_")) env[key] = value;
  }
  return { ...env, ...extra };
}

function cli(args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: cleanEnv({ VISITOR_PASS_DATABASE_URL: `sqlite:${file}`, ...env }),
    timeout: 30_000,
  });
}

function ok(args: string[]): string {
  const result = cli(args);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return result.stdout;
}

/** A user error: the exit code, nothing on stdout, one line on stderr and no stack trace. */
function userError(args: string[], status: number, message: string | RegExp, env = {}): string {
  const result = cli(args, env);
  expect(result.status).toBe(status);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/^\s*at /m);
  if (typeof message === "string") expect(lines[0]).toBe(message);
  else expect(lines[0]).toMatch(message);
  return result.stderr;
}

// Each run starts a node process: allow for a busy machine.
describe("the visitor-pass binary", { timeout: 60_000 }, () => {
  let pass: Record<string, any>;

  it("is an executable node script", () => {
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.bin).toEqual({ "visitor-pass": "./dist/cli/index.js" });
  });

  it("needs migrate first on a new database", () => {
    userError(
      ["list"],
      1,
      "The database has no visitor-pass tables; run `visitor-pass migrate` first.",
    );
    expect(existsSync(file)).toBe(false);
    expect(ok(["migrate"])).toMatch(
      /^Created the visitor-pass tables in sqlite:.* \(\d+ migrations\)\.\n$/,
    );
    expect(ok(["migrate"])).toBe(
      `The visitor-pass tables in sqlite:${file} are up to date: nothing to do.\n`,
    );
  });

  it("creates a pass and prints it as JSON with its link", () => {
    pass = JSON.parse(
      ok([
        "create",
        "--email",
        "ginger@x.org",
        "--scope",
        "REFERENCE_REQUEST",
        "--first-name",
        "Ginger",
        "--last-name",
        "Rogers",
        "--context",
        '{"requestedBy":"fred"}',
        "--expires-in",
        "7d",
        "--max-uses",
        "3",
        "--url",
        "https://app.example/reference",
        "--json",
      ]),
    );
    expect(pass).toMatchObject({
      fullName: "Ginger Rogers",
      email: "ginger@x.org",
      scope: "REFERENCE_REQUEST",
      context: { requestedBy: "fred" },
      maxUses: 3,
      isActive: true,
      link: `https://app.example/reference?vuid=${pass.uuid}`,
    });
    const days = (Date.parse(pass.expiresAt) - Date.parse(pass.createdAt)) / 86_400_000;
    expect(days).toBe(7);
  });

  it("lists, shows, deactivates and reactivates", () => {
    const list = JSON.parse(ok(["list", "--json"]));
    expect(list.map((v: { uuid: string }) => v.uuid)).toEqual([pass.uuid]);
    expect(ok(["list", "--scope", "NONE"])).toBe("No visitor passes.\n");
    expect(ok(["list"])).toMatch(/^UUID +STATUS +SCOPE/);

    const show = ok(["show", pass.uuid]);
    expect(show).toMatch(new RegExp(`^uuid +${pass.uuid}$`, "m"));
    expect(show).toContain('"requestedBy": "fred"');

    expect(ok(["deactivate", pass.uuid])).toContain(`Deactivated visitor pass ${pass.uuid}`);
    expect(JSON.parse(ok(["show", pass.uuid, "--json"])).isActive).toBe(false);
    expect(JSON.parse(ok(["list", "--inactive", "--json"]))).toHaveLength(1);
    expect(ok(["reactivate", pass.uuid])).toContain(`Reactivated visitor pass ${pass.uuid}`);
    expect(JSON.parse(ok(["list", "--active", "--json"]))).toHaveLength(1);
  });

  it("prints the logs, newest first", async () => {
    expect(ok(["logs", pass.uuid])).toBe(`No visits logged for ${pass.uuid}.\n`);
    const store = new KyselyStore({ kind: "sqlite", filename: file }, "visitor_pass_");
    try {
      for (const [second, path] of [
        [1, "/reference"],
        [2, "/reference/thanks"],
      ] as const) {
        await store.insertLogs([
          {
            visitorId: pass.id,
            sessionKey: null,
            httpMethod: "GET",
            requestUri: path,
            queryString: "",
            httpUserAgent: "curl/8.5.0",
            httpReferer: null,
            remoteAddr: "203.0.113.7",
            statusCode: 200,
            timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, second)),
          },
        ]);
      }
    } finally {
      await store.close();
    }
    expect(ok(["logs", pass.uuid]).trimEnd().split("\n")).toEqual([
      "TIME                  METHOD  PATH               STATUS  ADDRESS      USER AGENT",
      "2026-01-01 00:00:02Z  GET     /reference/thanks  200     203.0.113.7  curl/8.5.0",
      "2026-01-01 00:00:01Z  GET     /reference         200     203.0.113.7  curl/8.5.0",
    ]);
    expect(JSON.parse(ok(["logs", pass.uuid, "--json"]))).toHaveLength(2);
  });

  it("purges passes expired before a date, with no progress line off a terminal", () => {
    ok([
      "create",
      "--email",
      "old@x.org",
      "--scope",
      "S",
      "--expires-at",
      "2020-06-01",
      "--allow-past",
    ]);
    expect(ok(["purge", "--before", "2021-01-01"])).toBe(
      "Purged 1 visitor pass that expired before 2021-01-01 00:00:00Z.\n",
    );
    expect(JSON.parse(ok(["purge", "--older-than", "30d", "--json"])).purged).toBe(0);
    expect(JSON.parse(ok(["list", "--json"]))).toHaveLength(1);
  });

  it("answers each kind of user error with one line and the right exit code", () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    userError(["show", unknown], 1, `No visitor pass ${unknown}.`);
    userError(["deactivate", unknown], 1, `No visitor pass ${unknown}.`);
    userError(["show", "not-a-uuid"], 2, "Malformed visitor token.");
    userError(
      ["create", "--email", "nope", "--scope", "S"],
      2,
      "Invalid input: --email: Enter a valid email address.",
    );
    userError(["create", "--email", "a@x.org", "--scope", "S", "--expires-in", "7x"], 2, /7x/);
    userError(["purge", "--before", "someday"], 2, /is not a date/);
    const config = userError(
      ["list", "--database", "oracle://scott:tiger99@db/x"],
      2,
      /^Invalid visitor-pass option "database"/,
    );
    expect(config).not.toContain("tiger99");
    const unreachable = userError(["list"], 1, /^Cannot reach the database: /, {
      VISITOR_PASS_DATABASE_URL: "postgres://scott:tiger99@127.0.0.1:1/x",
    });
    expect(unreachable).not.toContain("tiger99");
    userError(
      ["list"],
      1,
      "The database has no visitor-pass tables; run `visitor-pass migrate` first.",
      { VISITOR_PASS_DATABASE_URL: "sqlite::memory:" },
    );
    userError(["report", "sharing", "--since", "soon"], 2, /--since/);
    userError(["frobnicate"], 2, /^error: unknown command 'frobnicate'/);
    userError(["list", "--frob"], 2, "error: unknown option '--frob'");
  });

  it("promotes a pass to an account, which ends its access; a second account is refused", () => {
    const created = JSON.parse(ok(["create", "--email", "promo@x.org", "--scope", "S", "--json"]));
    expect(ok(["promote", created.uuid, "--user", "user-42"])).toMatch(
      new RegExp(`^Promoted visitor pass ${created.uuid} to user user-42 on `),
    );
    expect(JSON.parse(ok(["show", created.uuid, "--json"]))).toMatchObject({
      promotedTo: "user-42",
      isActive: false,
      isValid: false,
    });
    userError(
      ["promote", created.uuid, "--user", "user-43"],
      1,
      "This visitor pass was already promoted to another account; it can be promoted only once.",
    );
    userError(
      ["promote", created.uuid, "--user", ""],
      2,
      "Invalid input: --user: A user id is required.",
    );
    userError(["promote", "not-a-uuid", "--user", "1"], 2, "Malformed visitor token.");
    expect(ok(["promote", "--help"])).toContain("--user <id>");
  });

  it("helps", () => {
    expect(ok(["--help"])).toContain("Usage: visitor-pass [options] [command]");
    expect(ok(["purge", "--help"])).toContain("--older-than <duration>");
    expect(ok(["--version"]).trim()).toBe(
      JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version,
    );
  });
});
