// docs/recipes/from-django.md names visitor-pass's counterpart of each django-visitor-pass
// setting, middleware, decorator and command. Each of those names must exist: the second column
// of every table, and anywhere on the page a call on `passes.`, a field of `visitor.`/`log.`/
// `req.`, an option of `createVisitorPass({ … })` or `userIsVisitor({ … })`, a `VISITOR_…`
// variable or an `npx visitor-pass …` command.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as express from "../../src/adapters/express/index.js";
import * as fastify from "../../src/adapters/fastify/index.js";
import * as fetchAdapter from "../../src/adapters/fetch/index.js";
import * as hono from "../../src/adapters/hono/index.js";
import * as core from "../../src/index.js";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const page = read("docs/recipes/from-django.md");

const ENTRIES = [
  ["src/index.ts", core],
  ["src/adapters/express/index.ts", express],
  ["src/adapters/fastify/index.ts", fastify],
  ["src/adapters/hono/index.ts", hono],
  ["src/adapters/fetch/index.ts", fetchAdapter],
] as const;

/** The members an interface declares in `path` (its lines indented by two spaces). */
function members(path: string, name: string): Set<string> {
  const text = read(path);
  const start = text.indexOf(`export interface ${name}`);
  if (start < 0) throw new Error(`no interface ${name} in ${path}`);
  const body = text.slice(start, text.indexOf("\n}", start));
  return new Set([...body.matchAll(/^ {2}(?:readonly )?(\w+)\??[:(<]/gm)].map((m) => m[1]!));
}

const OPTIONS = members("src/core/config.ts", "VisitorPassOptions");
const GUARD_OPTIONS = members("src/core/guard.ts", "GuardOptions");
const LOG_FIELDS = members("src/core/visitor.ts", "VisitorLog");
const REQUEST_FIELDS = new Set(["visitor", "isVisitor"]);
/** The frameworks' own names the page uses. */
const FRAMEWORK_NAMES = new Set(["preHandler"]);

/** Whether `name` is exported, as a value or a type, by one of the package's entry points. */
function exported(name: string): boolean {
  return ENTRIES.some(
    ([path, module]) =>
      name in module ||
      new RegExp(
        `^export (?:type|interface) ${name}\\b|^export (?:type )?\\{[^}]*\\b${name}\\b`,
        "ms",
      ).test(read(path)),
  );
}

const VISITOR_FIELDS = members("src/core/visitor.ts", "VisitorRecord");
const hasVisitorMember = (name: string) =>
  VISITOR_FIELDS.has(name) || name in core.Visitor.prototype;

/** Each form of name the page uses, and how to check that it exists. */
const RULES: [RegExp, (name: string) => boolean, string][] = [
  [
    /^passes\.(\w+)\(/,
    (name) => typeof (core.VisitorPass.prototype as any)[name] === "function",
    "VisitorPass has no method",
  ],
  [/^visitor\.(\w+)$/, hasVisitorMember, "Visitor has no"],
  [/^log\.(\w+)$/, (name) => LOG_FIELDS.has(name), "VisitorLog has no"],
  [/^req\.(\w+)$/, (name) => REQUEST_FIELDS.has(name), "the adapters set no req."],
  [
    /^createVisitorPass\(\{ (\w+) \}\)$/,
    (name) => OPTIONS.has(name),
    "no createVisitorPass option",
  ],
  [/^userIsVisitor\(\{ (\w+) \}\)$/, (name) => GUARD_OPTIONS.has(name), "no userIsVisitor option"],
  [/^(VISITOR_\w+)$/, (name) => read("src/core/config.ts").includes(`env.${name}`), "no variable"],
  [
    /^npx visitor-pass (\w+)$/,
    (name) => existsSync(new URL(`src/cli/commands/${name}.ts`, root)),
    "no command",
  ],
  [/^(\w+)(?:\(\))?$/, exported, "not exported:"],
];

/**
 * Why the name in code span `span` does not exist, or null when it does. Outside the tables'
 * second column (`strict` false), a bare word is checked only when it looks like an API name
 * (camelCase or PascalCase), and it may then also be an option or a field.
 */
function problem(span: string, strict: boolean): string | null {
  for (const [form, exists, message] of RULES) {
    const name = form.exec(span)?.[1];
    if (name === undefined) continue;
    if (form.source.startsWith("^(\\w+)") && !strict) {
      if (!/^[A-Z][a-z]+[A-Z]|^[a-z]+[A-Z]/.test(name)) return null;
      const known =
        FRAMEWORK_NAMES.has(name) ||
        exported(name) ||
        OPTIONS.has(name) ||
        GUARD_OPTIONS.has(name) ||
        hasVisitorMember(name) ||
        LOG_FIELDS.has(name);
      return known ? null : `${message} ${name}`;
    }
    return exists(name) ? null : `${message} ${name}`;
  }
  return strict ? `not a name this test knows how to check: ${span}` : null;
}

/** The code spans of a piece of markdown. */
const spans = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** The second cell of every table row below a header naming visitor-pass. */
function secondColumn(markdown: string): string[] {
  const cells: string[] = [];
  let inTable = false;
  for (const line of markdown.split("\n")) {
    if (!line.startsWith("|")) {
      inTable = false;
      continue;
    }
    const cell = line.split("|")[2]?.trim() ?? "";
    if (/^\|-/.test(line)) continue;
    if (!inTable) {
      inTable = true;
      expect(cell, `table header: ${line}`).toMatch(/^visitor-pass/);
      continue;
    }
    cells.push(cell);
  }
  return cells;
}

describe("recipe: coming from django-visitor-pass", () => {
  it("every visitor-pass name in the tables exists", () => {
    const cells = secondColumn(page);
    expect(cells.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const cell of cells) {
      if (cell === "—") continue;
      const names = spans(cell);
      expect(names.length, `a cell without a name: ${cell}`).toBeGreaterThan(0);
      for (const name of names) {
        const found = problem(name, true);
        if (found) problems.push(found);
      }
    }
    expect(problems).toEqual([]);
  });

  it("every other name on the page in a form the test knows exists", () => {
    // The first column is Django's.
    const visitorPassSide = page.replace(/^\|[^|]*\|/gm, "|");
    const problems = spans(visitorPassSide)
      .map((span) => problem(span.trim(), false))
      .filter((found) => found !== null);
    expect(problems).toEqual([]);
  });

  it("would catch a name that does not exist", () => {
    for (const madeUp of [
      "passes.revoke()",
      "visitor.isVisitor",
      "log.clientIp",
      "createVisitorPass({ sessionTtl })",
      "userIsVisitor({ bypassFunc })",
      "VISITOR_TOKEN_TTL",
      "npx visitor-pass expire",
      "userIsStaff",
    ]) {
      expect(problem(madeUp, true), madeUp).not.toBeNull();
    }
  });
});
