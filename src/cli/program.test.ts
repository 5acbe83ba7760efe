import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { flowOf } from "../core/visitor-pass.js";
import {
  createVisitorPass,
  type VisitorPass,
  type VisitorPassOptions,
} from "../create-visitor-pass.js";
import { KyselyStore } from "../store/kysely/kysely-store.js";
import { NOT_MIGRATED } from "./errors.js";
import { type CliIo, runCli } from "./program.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const UNKNOWN = "00000000-0000-4000-8000-000000000000";

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "visitor-pass-cli-"));
  file = join(dir, "passes.sqlite3");
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  env?: Record<string, string | undefined>;
  stderrTTY?: boolean;
  stdoutColumns?: number;
  createPasses?: CliIo["createPasses"];
}

async function run(args: string[], options: RunOptions = {}): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: {
      write: (text: string) => {
        stdout += text;
      },
      isTTY: options.stdoutColumns !== undefined,
      columns: options.stdoutColumns,
    },
    stderr: {
      write: (text: string) => {
        stderr += text;
      },
      isTTY: options.stderrTTY ?? false,
    },
    env: options.env ?? { VISITOR_PASS_DATABASE_URL: `sqlite:${file}` },
    now: () => NOW,
    ...(options.createPasses ? { createPasses: options.createPasses } : {}),
  });
  return { code, stdout, stderr };
}

/** A user error: exit `code`, nothing on stdout, one line on stderr, no stack. */
function expectUserError(result: Result, code: number, message: string | RegExp): void {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe("");
  expect(result.stderr.endsWith("\n")).toBe(true);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  if (typeof message === "string") expect(result.stderr.trimEnd()).toBe(message);
  else expect(result.stderr.trimEnd()).toMatch(message);
}

async function migrate(): Promise<void> {
  const result = await run(["migrate"]);
  expect(result).toMatchObject({ code: 0, stderr: "" });
}

async function create(...args: string[]): Promise<Record<string, any>> {
  const result = await run(["create", "--json", ...args]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

function regexpOf(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function passesOn(options: VisitorPassOptions = {}): VisitorPass {
  return createVisitorPass({ database: `sqlite:${file}`, env: {}, now: () => NOW, ...options });
}

describe("migrate", () => {
  it("says it created the tables on a new database, and that they are up to date after", async () => {
    const first = await run(["migrate"]);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe("");
    expect(first.stdout).toMatch(
      new RegExp(
        `^Created the visitor-pass tables in sqlite:${regexpOf(file)} \\(\\d+ migrations\\)\\.\n$`,
      ),
    );
    const again = await run(["migrate"]);
    expect(again).toEqual({
      code: 0,
      stdout: `The visitor-pass tables in sqlite:${file} are up to date: nothing to do.\n`,
      stderr: "",
    });
    const json = await run(["migrate", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({
      migrated: true,
      database: `sqlite:${file}`,
      created: false,
      applied: 0,
    });
  });

  it("reports the created tables as JSON too", async () => {
    const result = JSON.parse((await run(["migrate", "--json"])).stdout);
    expect(result).toMatchObject({ migrated: true, created: true });
    expect(result.applied).toBeGreaterThan(0);
  });

  it("says plainly when the database's directory does not exist, and migrate creates it", async () => {
    const missing = join(dir, "no", "such");
    const database = `sqlite:${join(missing, "passes.sqlite3")}`;
    expectUserError(
      await run(["list", "--database", database]),
      1,
      `The directory ${missing} of the SQLite database does not exist: check --database, or run \`visitor-pass migrate\` to create it and the tables.`,
    );
    expect(existsSync(missing)).toBe(false);
    const migrated = await run(["migrate", "--database", database]);
    expect(migrated).toMatchObject({ code: 0, stderr: "" });
    expect(migrated.stdout).toMatch(/^Created the visitor-pass tables/);
    const list = await run(["list", "--database", database]);
    expect(list).toMatchObject({ code: 0, stdout: "No visitor passes.\n" });
  });

  it("takes --database over VISITOR_PASS_DATABASE_URL, before or after the command", async () => {
    const other = join(dir, "other.sqlite3");
    await run(["migrate", "--database", `sqlite:${other}`]);
    expect(existsSync(other)).toBe(true);
    expect(existsSync(file)).toBe(false);
    const list = await run(["--database", `sqlite:${other}`, "list"]);
    expect(list).toMatchObject({ code: 0, stdout: "No visitor passes.\n" });
  });

  it("must come first: other commands say so, exit 1, and create no file", async () => {
    expectUserError(await run(["list"]), 1, NOT_MIGRATED);
    expect(existsSync(file)).toBe(false);
  });

  it("must come first on an existing but empty database too", async () => {
    writeFileSync(file, "");
    expectUserError(await run(["list"]), 1, NOT_MIGRATED);
    expectUserError(await run(["show", UNKNOWN]), 1, NOT_MIGRATED);
    expectUserError(await run(["purge"]), 1, NOT_MIGRATED);
  });
});

describe("create", () => {
  beforeEach(migrate);

  const example = [
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
  ];

  it("prints the serialized pass and its link as JSON", async () => {
    const pass = await create(...example);
    expect(pass).toMatchObject({
      firstName: "Ginger",
      lastName: "Rogers",
      fullName: "Ginger Rogers",
      email: "ginger@x.org",
      scope: "REFERENCE_REQUEST",
      context: { requestedBy: "fred" },
      createdAt: NOW.toISOString(),
      expiresAt: "2026-03-08T12:00:00.000Z",
      isActive: true,
      maxUses: 3,
      uses: 0,
      sessionExpiry: 0,
      link: `https://app.example/reference?vuid=${pass.uuid}`,
    });
    const stored = passesOn();
    try {
      expect((await stored.get(pass.uuid))?.context).toEqual({ requestedBy: "fred" });
    } finally {
      await stored.close();
    }
  });

  it("prints the uuid and link for people", async () => {
    const result = await run(["create", ...example]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Created a visitor pass for Ginger Rogers <ginger@x\.org>\.\n/);
    const uuid = /^uuid +(\S+)$/m.exec(result.stdout)?.[1];
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.stdout).toContain("expires  2026-03-08 12:00:00Z (in 7d)");
    expect(result.stdout).toContain(`link     https://app.example/reference?vuid=${uuid}`);
  });

  it("omits `link` without --url and takes the other expiry options", async () => {
    const at = await create(
      "--email",
      "a@x.org",
      "--scope",
      "S",
      "--expires-at",
      "2026-04-01T10:00:00Z",
      "--session-expiry",
      "2h",
    );
    expect(at).not.toHaveProperty("link");
    expect(at).toMatchObject({ expiresAt: "2026-04-01T10:00:00.000Z", sessionExpiry: 7200 });
    const never = await create("--email", "a@x.org", "--scope", "S", "--never-expires");
    expect(never).toMatchObject({ expiresAt: null, maxUses: null });
    const app = await create("--email", "a@x.org", "--scope", "S", "--session-expiry", "null");
    expect(app.sessionExpiry).toBeNull();
    const byDefault = await create("--email", "a@x.org", "--scope", "S");
    expect(byDefault.expiresAt).toBe(new Date(NOW.getTime() + 300_000).toISOString());
  });

  it("refuses an --expires-at that is not in the future, exit 2, unless --allow-past", async () => {
    const args = ["--email", "past@x.org", "--scope", "S", "--expires-at", "2026-02-28"];
    expectUserError(
      await run(["create", ...args]),
      2,
      "--expires-at: 2026-02-28 00:00:00Z is not in the future, so the link would never work. Give a later date, or add --allow-past to create it expired anyway.",
    );
    expect((await run(["list"])).stdout).toBe("No visitor passes.\n");
    const allowed = await create(...args, "--allow-past");
    expect(allowed).toMatchObject({ email: "past@x.org", expiresAt: "2026-02-28T00:00:00.000Z" });
    const future = await create("--email", "f@x.org", "--scope", "S", "--expires-at", "2026-03-02");
    expect(future.expiresAt).toBe("2026-03-02T00:00:00.000Z");
  });

  it("lists every invalid field on one line, exit 2, writing nothing", async () => {
    expectUserError(
      await run(["create", "--email", "not-an-email", "--scope", " ", "--max-uses", "0"]),
      2,
      "Invalid input: --email: Enter a valid email address.; --scope: Scope is required.; --max-uses: Must be 1 or more.",
    );
    expect(JSON.parse((await run(["list", "--json"])).stdout)).toEqual([]);
  });

  it.each([
    [["--scope", "S"], /^error: required option '--email <address>' not specified$/],
    [["--email", "a@x.org", "--scope", "S", "--expires-in", "soon"], /is not a duration/],
    [["--email", "a@x.org", "--scope", "S", "--expires-in", "0s"], /must be more than 0/],
    [
      ["--email", "a@x.org", "--scope", "S", "--expires-in", "1d", "--expires-at", "2026-04-01"],
      /cannot be used with/,
    ],
    [["--email", "a@x.org", "--scope", "S", "--expires-at", "next week"], /is not a date/],
    [["--email", "a@x.org", "--scope", "S", "--context", "{nope"], /Not valid JSON/],
    [["--email", "a@x.org", "--scope", "S", "--context", "[1,2]"], /--context: Must be a JSON/],
    [["--email", "a@x.org", "--scope", "S", "--max-uses", "lots"], /not a whole number/],
  ])("rejects %j with exit 2", async (args, message) => {
    expectUserError(await run(["create", ...args]), 2, message);
  });
});

describe("list, show, deactivate, reactivate", () => {
  let ginger: Record<string, any>;
  let fred: Record<string, any>;

  beforeEach(async () => {
    await migrate();
    ginger = await create(
      "--email",
      "ginger@x.org",
      "--scope",
      "REFERENCE_REQUEST",
      "--first-name",
      "Ginger",
      "--context",
      '{"requestedBy":"fred","tags":["a"]}',
    );
    fred = await create("--email", "fred@x.org", "--scope", "OTHER", "--first-name", "Fred");
  });

  it("lists passes as a table and as JSON, with filters", async () => {
    const table = await run(["list"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^UUID +STATUS +SCOPE +EXPIRES +USES +CREATED +EMAIL +NAME$/);
    expect(lines).toHaveLength(3);
    expect(table.stdout).toContain("ginger@x.org");

    const all = JSON.parse((await run(["list", "--json"])).stdout);
    expect(all.map((v: { uuid: string }) => v.uuid).sort()).toEqual(
      [ginger.uuid, fred.uuid].sort(),
    );
    const byScope = JSON.parse((await run(["list", "--scope", "OTHER", "--json"])).stdout);
    expect(byScope.map((v: { uuid: string }) => v.uuid)).toEqual([fred.uuid]);
    const bySearch = JSON.parse((await run(["list", "--search", "GINGER", "--json"])).stdout);
    expect(bySearch.map((v: { uuid: string }) => v.uuid)).toEqual([ginger.uuid]);
    const page = JSON.parse(
      (await run(["list", "--limit", "1", "--offset", "1", "--json"])).stdout,
    );
    expect(page).toHaveLength(1);
    const limited = await run(["list", "--limit", "1"]);
    expect(limited.stdout).toContain("(1 shown; there may be more: --offset 1)");

    await run(["deactivate", fred.uuid]);
    const active = JSON.parse((await run(["list", "--active", "--json"])).stdout);
    expect(active.map((v: { uuid: string }) => v.uuid)).toEqual([ginger.uuid]);
    const inactive = JSON.parse((await run(["list", "--inactive", "--json"])).stdout);
    expect(inactive.map((v: { uuid: string }) => v.uuid)).toEqual([fred.uuid]);
  });

  it("fits the table to a terminal", async () => {
    const result = await run(["list"], {
      stdoutColumns: 150,
      env: { VISITOR_PASS_DATABASE_URL: `sqlite:${file}` },
    });
    for (const line of result.stdout.trimEnd().split("\n")) {
      expect(line.length).toBeLessThanOrEqual(150);
    }
  });

  it("rejects bad list options with exit 2", async () => {
    expectUserError(await run(["list", "--active", "--inactive"]), 2, /cannot be used with/);
    expectUserError(
      await run(["list", "--limit", "5000"]),
      2,
      "Invalid input: --limit: At most 1000.",
    );
    expectUserError(await run(["list", "--limit", "x"]), 2, /not a whole number/);
  });

  it("shows every field, the context pretty-printed", async () => {
    const result = await run(["show", ginger.uuid]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^uuid +${ginger.uuid}$`, "m"));
    expect(result.stdout).toMatch(/^first name +Ginger$/m);
    expect(result.stdout).toMatch(/^status +active$/m);
    expect(result.stdout).toMatch(
      /^session expiry +0 \(the session ends when the browser closes\)$/m,
    );
    expect(result.stdout).toContain(
      'context         {\n                  "requestedBy": "fred",\n',
    );
    const json = JSON.parse((await run(["show", ginger.uuid, "--json"])).stdout);
    expect(json).toEqual(ginger);
    const linked = JSON.parse((await run(["show", ginger.uuid, "--json", "--url", "/r#x"])).stdout);
    expect(linked.link).toBe(`/r?vuid=${ginger.uuid}#x`);
  });

  it("says which pass is unknown (exit 1) and which token is malformed (exit 2)", async () => {
    for (const command of ["show", "deactivate", "reactivate", "logs"]) {
      expectUserError(await run([command, UNKNOWN]), 1, `No visitor pass ${UNKNOWN}.`);
      expectUserError(await run([command, "not-a-uuid"]), 2, "Malformed visitor token.");
    }
  });

  it("says a pass is already inactive when deactivated twice, exit 0, changing nothing", async () => {
    await run(["deactivate", ginger.uuid]);
    const before = JSON.parse((await run(["show", ginger.uuid, "--json"])).stdout);
    const twice = await run(["deactivate", ginger.uuid]);
    expect(twice).toEqual({
      code: 0,
      stdout: `Visitor pass ${ginger.uuid} is already inactive: nothing changed.\n`,
      stderr: "",
    });
    const after = JSON.parse((await run(["show", ginger.uuid, "--json"])).stdout);
    expect(after).toEqual(before);
  });

  it("refuses to shorten an active pass's expiry by reactivating it, unless --force", async () => {
    const week = await create("--email", "week@x.org", "--scope", "S", "--expires-in", "7d");
    expectUserError(
      await run(["reactivate", week.uuid]),
      2,
      `Visitor pass ${week.uuid} is active and its link works until 2026-03-08 12:00:00Z (in 7d); reactivating would shorten that to 2026-03-01 12:05:00Z (in 5m). Nothing changed; add --force to do it anyway.`,
    );
    const never = await create("--email", "never@x.org", "--scope", "S", "--never-expires");
    expectUserError(
      await run(["reactivate", never.uuid]),
      2,
      /is active and its link never expires; reactivating would shorten that to 2026-03-01 12:05:00Z/,
    );
    expect(JSON.parse((await run(["show", week.uuid, "--json"])).stdout).expiresAt).toBe(
      "2026-03-08T12:00:00.000Z",
    );
    const forced = JSON.parse((await run(["reactivate", week.uuid, "--force", "--json"])).stdout);
    expect(forced).toMatchObject({ isActive: true, expiresAt: "2026-03-01T12:05:00.000Z" });
  });

  it("reactivates an active pass whose link has expired or expires sooner, without --force", async () => {
    const soon = await create("--email", "soon@x.org", "--scope", "S", "--expires-in", "1m");
    const on = JSON.parse((await run(["reactivate", soon.uuid, "--json"])).stdout);
    expect(on).toMatchObject({ isActive: true, expiresAt: "2026-03-01T12:05:00.000Z" });
  });

  it("deactivates and reactivates", async () => {
    const off = await run(["deactivate", ginger.uuid]);
    expect(off).toEqual({
      code: 0,
      stdout: `Deactivated visitor pass ${ginger.uuid}: its link and sessions no longer work.\n`,
      stderr: "",
    });
    expect(JSON.parse((await run(["show", ginger.uuid, "--json"])).stdout).isActive).toBe(false);

    const on = await run(["reactivate", ginger.uuid, "--url", "https://app.example/r"]);
    expect(on.code).toBe(0);
    expect(on.stdout).toBe(
      `Reactivated visitor pass ${ginger.uuid}: its link works until 2026-03-01 12:05:00Z (in 5m).\n` +
        `https://app.example/r?vuid=${ginger.uuid}\n`,
    );
    const json = JSON.parse((await run(["deactivate", ginger.uuid, "--json"])).stdout);
    expect(json).toMatchObject({ uuid: ginger.uuid, isActive: false });
    const again = JSON.parse((await run(["reactivate", ginger.uuid, "--json"])).stdout);
    expect(again).toMatchObject({ isActive: true, expiresAt: "2026-03-01T12:05:00.000Z" });
  });
});

describe("logs", () => {
  it("prints the visits newest first, as a table or JSON", async () => {
    await migrate();
    const pass = await create("--email", "ginger@x.org", "--scope", "S");
    expect((await run(["logs", pass.uuid])).stdout).toBe(`No visits logged for ${pass.uuid}.\n`);

    const store = new KyselyStore({ kind: "sqlite", filename: file }, "visitor_pass_");
    try {
      for (const [minute, path, status] of [
        [1, "/reference", 200],
        [2, "/reference/edit", 403],
      ] as const) {
        await store.insertLogs([
          {
            visitorId: pass.id,
            sessionKey: "s1",
            httpMethod: "GET",
            requestUri: path,
            queryString: minute === 2 ? "tab=2" : "",
            httpUserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
            httpReferer: null,
            remoteAddr: "203.0.113.7",
            statusCode: status,
            timestamp: new Date(NOW.getTime() + minute * 60_000),
          },
        ]);
      }
    } finally {
      await store.close();
    }

    const table = await run(["logs", pass.uuid]);
    expect(table.code).toBe(0);
    expect(table.stdout.trimEnd().split("\n")).toEqual([
      "TIME                  METHOD  PATH                   STATUS  ADDRESS      USER AGENT",
      "2026-03-01 12:02:00Z  GET     /reference/edit?tab=2  403     203.0.113.7  Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
      "2026-03-01 12:01:00Z  GET     /reference             200     203.0.113.7  Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
    ]);
    const json = JSON.parse((await run(["logs", pass.uuid, "--json"])).stdout);
    expect(json.map((log: { requestUri: string }) => log.requestUri)).toEqual([
      "/reference/edit",
      "/reference",
    ]);
    expect(json[0]).toMatchObject({ statusCode: 403, timestamp: "2026-03-01T12:02:00.000Z" });
  });
});

describe("truncate-logs", () => {
  beforeEach(migrate);

  async function withLogs(minutes: number[]): Promise<string> {
    const pass = await create("--email", "a@x.org", "--scope", "S");
    const store = new KyselyStore({ kind: "sqlite", filename: file }, "visitor_pass_");
    try {
      await store.insertLogs(
        minutes.map((minute) => ({
          visitorId: pass.id,
          sessionKey: "s1",
          httpMethod: "GET",
          requestUri: `/m${minute}`,
          queryString: "",
          httpUserAgent: null,
          httpReferer: null,
          remoteAddr: null,
          statusCode: 200,
          timestamp: new Date(Date.parse("2026-01-01T00:00:00Z") + minute * 60_000),
        })),
      );
    } finally {
      await store.close();
    }
    return pass.uuid;
  }

  const paths = async (uuid: string) =>
    JSON.parse((await run(["logs", uuid, "--json"])).stdout).map(
      (log: { requestUri: string }) => log.requestUri,
    );

  it("deletes logs before --before, beyond --keep, or both, keeping the pass", async () => {
    const uuid = await withLogs([0, 1, 2, 3, 4, 5]);
    expect(await run(["truncate-logs", "--before", "2026-01-01T00:02:00Z"])).toEqual({
      code: 0,
      stdout: "Deleted 2 visit logs from before 2026-01-01 00:02:00Z.\n",
      stderr: "",
    });
    expect(await run(["truncate-logs", "--before", "2026-01-01T00:05:00Z", "--keep", "2"])).toEqual(
      {
        code: 0,
        stdout:
          "Deleted 2 visit logs from before 2026-01-01 00:05:00Z and beyond the newest 2 of each pass.\n",
        stderr: "",
      },
    );
    expect(await paths(uuid)).toEqual(["/m5", "/m4"]);
    const json = JSON.parse((await run(["truncate-logs", "--keep", "1", "--json"])).stdout);
    expect(json).toEqual({ deleted: 1, before: null, keep: 1 });
    expect(await paths(uuid)).toEqual(["/m5"]);
    expect((await run(["show", uuid])).code).toBe(0);
  });

  it("reads --older-than as before now minus the duration", async () => {
    await withLogs([0]);
    const json = JSON.parse((await run(["truncate-logs", "--older-than", "30d", "--json"])).stdout);
    expect(json).toEqual({ deleted: 1, before: "2026-01-30T12:00:00.000Z", keep: null });
  });

  it("refuses a call without a criterion, bad values and both dates, exit 2, deleting nothing", async () => {
    const uuid = await withLogs([0, 1]);
    expectUserError(
      await run(["truncate-logs"]),
      2,
      /^Give --before \(or --older-than\), --keep, or both/,
    );
    expectUserError(
      await run(["truncate-logs", "--keep", "-1"]),
      2,
      "Invalid input: --keep: Must be 0 or more.",
    );
    expectUserError(await run(["truncate-logs", "--keep", "many"]), 2, /is not a whole number/);
    expectUserError(await run(["truncate-logs", "--before", "someday"]), 2, /is not a date/);
    expectUserError(
      await run(["truncate-logs", "--before", "2026-01-01", "--older-than", "1d"]),
      2,
      /cannot be used with/,
    );
    expect(await paths(uuid)).toHaveLength(2);
  });
});

describe("purge", () => {
  beforeEach(migrate);

  it("deletes passes that expired before --before and prints the count", async () => {
    await create(
      "--email",
      "a@x.org",
      "--scope",
      "S",
      "--expires-at",
      "2025-12-31T23:00:00Z",
      "--allow-past",
    );
    await create(
      "--email",
      "b@x.org",
      "--scope",
      "S",
      "--expires-at",
      "2026-01-01T01:00:00Z",
      "--allow-past",
    );
    const result = await run(["purge", "--before", "2026-01-01"]);
    expect(result).toEqual({
      code: 0,
      stdout: "Purged 1 visitor pass that expired before 2026-01-01 00:00:00Z.\n",
      stderr: "",
    });
    expect(JSON.parse((await run(["list", "--json"])).stdout)).toHaveLength(1);
    const json = JSON.parse((await run(["purge", "--json"])).stdout);
    expect(json).toEqual({ purged: 1, before: NOW.toISOString() });
  });

  it("reads --older-than as before now minus the duration", async () => {
    await create(
      "--email",
      "a@x.org",
      "--scope",
      "S",
      "--expires-at",
      "2026-01-15T00:00:00Z",
      "--allow-past",
    );
    await create(
      "--email",
      "b@x.org",
      "--scope",
      "S",
      "--expires-at",
      "2026-02-15T00:00:00Z",
      "--allow-past",
    );
    const json = JSON.parse((await run(["purge", "--older-than", "30d", "--json"])).stdout);
    expect(json).toEqual({ purged: 1, before: "2026-01-30T12:00:00.000Z" });
  });

  it("rejects bad dates and both options at once, exit 2", async () => {
    expectUserError(await run(["purge", "--before", "yesterday"]), 2, /is not a date/);
    expectUserError(await run(["purge", "--older-than", "a while"]), 2, /is not a duration/);
    expectUserError(
      await run(["purge", "--before", "2026-01-01", "--older-than", "1d"]),
      2,
      /cannot be used with/,
    );
  });

  it("shows progress per batch on a terminal only, and erases it", async () => {
    const passes = passesOn();
    try {
      for (let i = 0; i < 251; i++) {
        await passes.create({ email: `v${i}@x.org`, scope: "S", expiresAt: new Date(0) });
      }
    } finally {
      await passes.close();
    }
    const tty = await run(["purge"], {
      stderrTTY: true,
      env: { VISITOR_PASS_DATABASE_URL: `sqlite:${file}` },
    });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/^Purged 251 visitor passes/);
    expect(tty.stderr).toBe(
      "\rPurging expired visitor passes… 250 deleted" +
        "\rPurging expired visitor passes… 251 deleted" +
        "\r\u001b[2K",
    );

    const quiet = await run(["purge"]);
    expect(quiet).toMatchObject({ code: 0, stderr: "" });
  });
});

describe("report sharing", () => {
  beforeEach(migrate);

  /** Visits as the request flow logs them (with their sharing signals). */
  async function visits(uuid: string, visits: [session: string, ip: string, agent: string][]) {
    const passes = passesOn();
    try {
      const visitor = (await passes.get(uuid))!;
      const flow = flowOf(passes, "test()");
      for (const [session, ip, userAgent] of visits) {
        const request = { method: "GET", url: "/reference", userAgent, referer: null, ip };
        flow.recordVisit(visitor, request, session, 200);
      }
    } finally {
      await passes.close();
    }
  }

  const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
  const SAFARI =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
  const CHROME =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";

  it("lists passes with visits, the shared one flagged first with its reasons", async () => {
    const ginger = await create("--email", "ginger@x.org", "--scope", "S");
    const shared = await create("--email", "shared@x.org", "--scope", "S");
    await visits(ginger.uuid, [
      ["g1", "203.0.113.7", FIREFOX],
      ["g1", "203.0.113.8", FIREFOX],
    ]);
    await visits(shared.uuid, [
      ["s1", "203.0.113.7", FIREFOX],
      ["s2", "198.51.100.4", SAFARI],
      ["s3", "192.0.2.9", CHROME],
    ]);

    const result = await run(["report", "sharing"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^UUID\s+VISITS\s+SESSIONS\s+NETWORKS\s+BROWSERS/);
    expect(lines[1]).toContain(shared.uuid);
    expect(lines[1]).toMatch(/\s3\s+3\s+3\s+3\s/);
    expect(lines[1]).toContain("yes: 3 sessions (more than 2)");
    expect(lines[2]).toContain(ginger.uuid);
    expect(lines[2]).toMatch(/\s2\s+1\s+1\s+1\s/);
    expect(lines[2]).toMatch(/\sno\s/);

    const flagged = JSON.parse((await run(["report", "sharing", "--flagged", "--json"])).stdout);
    expect(flagged.map((row: { uuid: string }) => row.uuid)).toEqual([shared.uuid]);
    expect(flagged[0]).toMatchObject({ sessions: 3, networks: 3, browsers: 3, flagged: true });

    const other = await run(["report", "sharing", "--scope", "OTHER"]);
    expect(other).toMatchObject({ code: 0, stdout: "No visits to report.\n" });
  });

  it("refuses bad options with one line and exit 2", async () => {
    expectUserError(await run(["report", "sharing", "--since", "soon"]), 2, /--since/);
    expectUserError(await run(["report", "sharing", "--limit", "0"]), 2, /limit/);
  });
});

describe("errors and help", () => {
  it("reports a bad --database as a config error, exit 2, password hidden", async () => {
    const result = await run(["list", "--database", "mongodb://admin:hunter22@db/app"]);
    expectUserError(result, 2, /^Invalid visitor-pass option "database"/);
    expect(result.stderr).not.toContain("hunter22");
  });

  it("reports a bad VISITOR_PASS_DATABASE_URL the same way", async () => {
    expectUserError(
      await run(["list"], { env: { VISITOR_PASS_DATABASE_URL: "sqlite:" } }),
      2,
      /^Invalid visitor-pass option "database"/,
    );
  });

  it("says when the database cannot be reached, exit 1, password hidden", async () => {
    for (const url of [
      "postgres://app:hunter22@127.0.0.1:1/app",
      "mysql://app:hunter22@127.0.0.1:1/app",
    ]) {
      const result = await run(["list", "--database", url]);
      expectUserError(result, 1, /^Cannot reach the database: \S/);
      expect(result.stderr).not.toContain("hunter22");
    }
    writeFileSync(join(dir, "a-file"), "");
    const blocked = join(dir, "a-file", "sub");
    expectUserError(
      await run(["migrate", "--database", `sqlite:${join(blocked, "dir.sqlite3")}`]),
      1,
      `Cannot create the directory ${blocked} of the SQLite database (ENOTDIR): check --database.`,
    );
  });

  it("closes the pass service after every command, failed or not", async () => {
    let closed = 0;
    const createPasses = (options: VisitorPassOptions) => {
      const passes = createVisitorPass(options);
      const close = passes.close.bind(passes);
      passes.close = async () => {
        closed++;
        await close();
      };
      return passes;
    };
    const env = { VISITOR_PASS_DATABASE_URL: `sqlite:${file}` };
    await run(["migrate"], { createPasses, env });
    await run(["show", UNKNOWN], { createPasses, env });
    await run(["show", "bad"], { createPasses, env });
    await run(["create", "--email", "x", "--scope", "S"], { createPasses, env });
    await run(["report", "sharing"], { createPasses, env });
    expect(closed).toBe(5);
  });

  it("reports unknown commands and options in commander's words, on one line, exit 2", async () => {
    expectUserError(await run(["lst"]), 2, "error: unknown command 'lst' (Did you mean list?)");
    expectUserError(await run(["list", "--colour"]), 2, "error: unknown option '--colour'");
    expectUserError(await run(["show"]), 2, "error: missing required argument 'uuid'");
    expectUserError(await run(["show", "a", "b"]), 2, /too many arguments/);
  });

  it("prints help for the program and each command on stdout, exit 0", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["migrate", "create", "list", "show", "deactivate", "reactivate"]) {
      expect(help.stdout).toContain(command);
    }
    const create = await run(["create", "--help"]);
    expect(create.code).toBe(0);
    for (const flag of ["--email", "--scope", "--context", "--expires-in", "--max-uses", "--url"]) {
      expect(create.stdout).toContain(flag);
    }
    expect((await run(["help", "purge"])).stdout).toContain("--older-than <duration>");
    expect((await run(["report", "sharing", "--help"])).stdout).toContain("--json");
    expect((await run(["--version"])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("shows help on stderr with exit 2 when no command is given", async () => {
    const result = await run([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Usage: visitor-pass");
  });
});

/** A pass written straight to the store, as no validation would let it in (names as given). */
async function storedPass(fields: {
  uuid?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  scope?: string;
  context?: Record<string, unknown> | null;
  isActive?: boolean;
}): Promise<string> {
  const passes = passesOn();
  const store = new KyselyStore(passes.config.database, passes.config.tablePrefix);
  try {
    const uuid = fields.uuid ?? crypto.randomUUID();
    await store.insert({
      uuid,
      firstName: fields.firstName ?? "",
      lastName: fields.lastName ?? "",
      email: fields.email ?? "guest@x.org",
      scope: fields.scope ?? "S",
      context: fields.context ?? null,
      createdAt: NOW,
      lastUpdatedAt: NOW,
      expiresAt: new Date(NOW.getTime() + 300_000),
      isActive: fields.isActive ?? true,
      sessionExpiry: 0,
      maxUses: null,
      uses: 0,
    });
    return uuid;
  } finally {
    await store.close();
    await passes.close();
  }
}

/** A self-service request as a guard leaves it, before its form is filled in. */
function unclaimedRequest(): Promise<string> {
  return storedPass({
    email: "",
    scope: "EARLY",
    context: { selfService: true, redirectTo: "/early" },
    isActive: false,
  });
}

async function logVisits(uuid: string, visits: [session: string | null, agent: string][]) {
  const passes = passesOn();
  try {
    const visitor = (await passes.get(uuid))!;
    const flow = flowOf(passes, "test()");
    for (const [session, userAgent] of visits) {
      const request = {
        method: "GET",
        url: "/reference?\u001b]0;pwned\u0007",
        userAgent,
        referer: null,
        ip: "203.0.113.9",
      };
      flow.recordVisit(visitor, request, session, 200);
    }
  } finally {
    await passes.close();
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: what must never be printed.
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

describe("terminal safety", () => {
  beforeEach(migrate);

  const HOSTILE_FIRST = "\u001b]0;pwned\u0007\u001b[2J\u001b[3JGinger";
  const HOSTILE_LAST = "Rogers\u009b31m\u202eevil\r\u0008";
  const HOSTILE_AGENT = "Mozilla/5.0 \u001b[2J\u001b]2;title\u0007 Firefox/140.0";

  it("blanks control characters in every command's output; JSON keeps them, escaped", async () => {
    const uuid = await storedPass({
      firstName: HOSTILE_FIRST,
      lastName: HOSTILE_LAST,
      context: { note: "\u001b[2J\u009b" },
    });
    await logVisits(uuid, [[null, HOSTILE_AGENT]]);
    const hostile = await (async () => {
      const passes = passesOn();
      try {
        return (await passes.get(uuid))!;
      } finally {
        await passes.close();
      }
    })();
    // `create` prints what the service hands back: here, the hostile pass.
    const createPasses = (options: VisitorPassOptions) => {
      const passes = createVisitorPass(options);
      passes.create = async () => hostile;
      return passes;
    };
    const outputs = [
      await run(["show", uuid]),
      await run(["list"]),
      await run(["list"], { stdoutColumns: 100 }),
      await run(["logs", uuid]),
      await run(["report", "sharing"]),
      await run(["create", "--email", "a@x.org", "--scope", "S", "--url", "/r"], { createPasses }),
      await run(["deactivate", uuid]),
      await run(["reactivate", uuid, "--url", "/r"]),
      await run(["purge"]),
      await run(["show", "\u001b[2J"]),
      await run(["\u001b]0;pwned\u0007"]),
      await run(["list", "--limit", "\u001b[2J"]),
    ];
    for (const [index, output] of outputs.entries()) {
      expect(output.stdout, `output ${index}`).not.toMatch(UNPRINTABLE);
      expect(output.stderr, `output ${index}`).not.toMatch(UNPRINTABLE);
    }
    expect(outputs[0]!.stdout).toMatch(/^first name +\s*\]0;pwned\s+\[2J\s\[3JGinger$/m);
    expect(outputs[3]!.stdout).toContain("Firefox/140.0");
    expect(outputs[5]!.stdout).toContain("Ginger");
    expect(outputs.slice(0, 9).map((o) => o.code)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);

    for (const args of [
      ["show", uuid, "--json"],
      ["list", "--json"],
      ["logs", uuid, "--json"],
    ]) {
      const result = await run(args);
      expect(result.stdout).not.toMatch(UNPRINTABLE);
      const parsed = JSON.parse(result.stdout);
      const text = JSON.stringify(parsed);
      expect(text).toContain(
        JSON.stringify(args[0] === "logs" ? HOSTILE_AGENT : HOSTILE_FIRST).slice(1, -1),
      );
    }
    const shown = JSON.parse((await run(["show", uuid, "--json"])).stdout);
    expect(shown).toMatchObject({ firstName: HOSTILE_FIRST, lastName: HOSTILE_LAST });
  });
});

describe("self-service passes", () => {
  beforeEach(migrate);

  it("names a completed form's pass by the form's token in every command", async () => {
    const form = await unclaimedRequest();
    const token = crypto.randomUUID();
    const passes = passesOn();
    const store = new KyselyStore(passes.config.database, passes.config.tablePrefix);
    try {
      await store.claim(form, token, {
        firstName: "Fred",
        email: "fred@x.org",
        context: { selfService: true, redirectTo: "/early", claimedAt: NOW.toISOString() },
      });
    } finally {
      await store.close();
      await passes.close();
    }
    await logVisits(token, [["s1", "Mozilla/5.0 Firefox/140.0"]]);

    const shown = JSON.parse((await run(["show", form, "--json"])).stdout);
    expect(shown).toMatchObject({ uuid: token, email: "fred@x.org", isActive: true });
    const off = await run(["deactivate", form]);
    expect(off).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse((await run(["show", token, "--json"])).stdout).isActive).toBe(false);
    expect((await run(["show", token])).stdout).toMatch(/^status +inactive$/m);
    const on = await run(["reactivate", form]);
    expect(on).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse((await run(["show", token, "--json"])).stdout).isActive).toBe(true);
    const logs = JSON.parse((await run(["logs", form, "--json"])).stdout);
    expect(logs).toHaveLength(1);
    expect(logs).toEqual(JSON.parse((await run(["logs", token, "--json"])).stdout));
  });

  it("refuses to reactivate an unclaimed self-service request, exit 1, changing nothing", async () => {
    const request = await unclaimedRequest();
    expectUserError(await run(["reactivate", request]), 1, /form was never completed/);
    const shown = JSON.parse((await run(["show", request, "--json"])).stdout);
    expect(shown).toMatchObject({ isActive: false, email: "" });
    expect((await run(["show", request])).stdout).toMatch(/^status +pending$/m);
  });

  it("says in the sharing report which visits came without a session", async () => {
    const uuid = await storedPass({ email: "nocookies@x.org" });
    const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
    await logVisits(uuid, [
      [null, firefox],
      [null, firefox],
      [null, firefox],
    ]);
    const result = await run(["report", "sharing"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${uuid}: 3 visits without a session (cookies refused)`);
    const json = JSON.parse((await run(["report", "sharing", "--json"])).stdout);
    expect(json[0]).toMatchObject({ visits: 3, sessions: 0, withoutSession: 3 });
  });
});

describe("promote", () => {
  beforeEach(migrate);

  it("promotes a pass to --user, once; again to the same id is quiet; another id fails", async () => {
    const pass = await create("--email", "a@x.org", "--scope", "S");
    const done = await run(["promote", pass.uuid, "--user", "42"]);
    expect(done).toMatchObject({ code: 0, stderr: "" });
    expect(done.stdout).toMatch(
      new RegExp(`^Promoted visitor pass ${pass.uuid} to user 42 on \\d{4}-\\d\\d-\\d\\d `),
    );
    const shown = JSON.parse((await run(["show", pass.uuid, "--json"])).stdout);
    expect(shown).toMatchObject({ promotedTo: "42", isActive: false });
    const again = JSON.parse((await run(["promote", pass.uuid, "--user", "42", "--json"])).stdout);
    expect(again.promotedAt).toBe(shown.promotedAt);
    const other = await run(["promote", pass.uuid, "--user", "43"]);
    expect(other).toMatchObject({ code: 1, stdout: "" });
    expect(other.stderr).toBe(
      "This visitor pass was already promoted to another account; it can be promoted only once.\n",
    );
    const reactivate = await run(["reactivate", pass.uuid, "--force"]);
    expect(reactivate.code).toBe(1);
    expect(reactivate.stderr).toContain("cannot be reactivated");
  });

  it("answers a missing or bad --user, a malformed and an unknown uuid with one line", async () => {
    const pass = await create("--email", "a@x.org", "--scope", "S");
    const missing = await run(["promote", pass.uuid]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--user <id>");
    const empty = await run(["promote", pass.uuid, "--user", ""]);
    expect(empty).toMatchObject({
      code: 2,
      stderr: "Invalid input: --user: A user id is required.\n",
    });
    const long = await run(["promote", pass.uuid, "--user", "x".repeat(256)]);
    expect(long).toMatchObject({
      code: 2,
      stderr: "Invalid input: --user: At most 255 characters.\n",
    });
    const control = await run(["promote", pass.uuid, "--user", "a\u001b[2Jb"]);
    expect(control.code).toBe(2);
    expect(control.stderr).not.toContain("\u001b");
    expect((await run(["promote", "nope", "--user", "1"])).stderr).toBe(
      "Malformed visitor token.\n",
    );
    expect(await run(["promote", UNKNOWN, "--user", "1"])).toMatchObject({
      code: 1,
      stderr: `No visitor pass ${UNKNOWN}.\n`,
    });
    expect(JSON.parse((await run(["show", pass.uuid, "--json"])).stdout).promotedTo).toBeNull();
  });
});
