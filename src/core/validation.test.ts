import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CreateVisitorInput,
  createVisitorPass,
  type VisitorPass,
  VisitorPassError,
  VisitorPassValidationError,
} from "../index.js";

const T0 = new Date("2025-03-01T10:00:00.000Z");
const good = { email: "ada@example.org", scope: "REFERENCE_REQUEST" };
const CONTROL = "Must not contain control characters.";

async function validationError(passes: VisitorPass, input: unknown) {
  try {
    await passes.create(input as CreateVisitorInput);
  } catch (error) {
    expect(error).toBeInstanceOf(VisitorPassValidationError);
    return error as VisitorPassValidationError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe("create() refuses bad input, per field, and writes nothing", () => {
  let passes: VisitorPass;
  beforeAll(async () => {
    passes = createVisitorPass({ env: {}, database: "sqlite::memory:", now: () => T0 });
    await passes.migrate();
  });
  afterAll(() => passes.close());

  const longEmail = `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(60)}.org`;

  it.each<[string, Record<string, unknown>, string, string | null]>([
    ["missing email", { email: undefined }, "email", "Email address is required."],
    ["email not an address", { email: "ada" }, "email", "Enter a valid email address."],
    ["email with two @", { email: "ada@@example.org" }, "email", "Enter a valid email address."],
    ["email blank", { email: "   " }, "email", "Enter a valid email address."],
    ["email a number", { email: 42 }, "email", "Enter a valid email address."],
    ["email over 254 characters", { email: longEmail }, "email", "At most 254 characters."],
    ["missing scope", { scope: undefined }, "scope", null],
    ["empty scope", { scope: "" }, "scope", "Scope is required."],
    ["whitespace scope", { scope: " \t " }, "scope", "Scope is required."],
    ["scope over 100", { scope: "S".repeat(101) }, "scope", "At most 100 characters."],
    ["firstName over 150", { firstName: "A".repeat(151) }, "firstName", "At most 150 characters."],
    ["lastName over 150", { lastName: "L".repeat(151) }, "lastName", "At most 150 characters."],
    ["firstName not text", { firstName: 1 }, "firstName", "Must be text."],
    ...[
      ["an ANSI escape", "\u001b[2J"],
      ["NUL", "\u0000"],
      ["a line break", "Ada\nLovelace"],
      ["a tab", "Ada\tLovelace"],
      ["DEL", "\u007f"],
      ["a C1 control (CSI)", "\u009b2J"],
    ].flatMap(([what, text]): [string, Record<string, unknown>, string, string][] => [
      [`firstName with ${what}`, { firstName: `Ada${text}` }, "firstName", CONTROL],
      [`lastName with ${what}`, { lastName: `Love${text}lace` }, "lastName", CONTROL],
      [`scope with ${what}`, { scope: `REF${text}` }, "scope", CONTROL],
    ]),
    [
      "email with an escape",
      { email: "ada\u001b[2J@example.org" },
      "email",
      "Enter a valid email address.",
    ],
    ["email with NUL", { email: "ada@example.org\u0000" }, "email", "Enter a valid email address."],
    ["context an array", { context: [1, 2] }, "context", "Must be a JSON object."],
    ["context a string", { context: "{}" }, "context", "Must be a JSON object."],
    ["context a number", { context: 3 }, "context", "Must be a JSON object."],
    ["context holding a Date", { context: { at: new Date() } }, "context", null],
    ["context holding undefined", { context: { a: undefined } }, "context", null],
    ["context holding a function", { context: { f: () => 1 } }, "context", null],
    ["context holding NaN", { context: { n: Number.NaN } }, "context", null],
    ["context nesting a Date", { context: { a: [{ at: new Date() }] } }, "context", null],
    ["maxUses 0", { maxUses: 0 }, "maxUses", "Must be 1 or more."],
    ["maxUses negative", { maxUses: -2 }, "maxUses", "Must be 1 or more."],
    ["maxUses a fraction", { maxUses: 1.5 }, "maxUses", "Must be a whole number."],
    ["maxUses a string", { maxUses: "3" }, "maxUses", "Must be a number."],
    ["sessionExpiry negative", { sessionExpiry: -1 }, "sessionExpiry", "Must be 0 or more."],
    ["sessionExpiry a fraction", { sessionExpiry: 0.5 }, "sessionExpiry", null],
    ["expiresAt not a date", { expiresAt: "next tuesday-ish" }, "expiresAt", "Must be a date."],
    ["expiresAt empty string", { expiresAt: "" }, "expiresAt", "Must be a date."],
    ["expiresAt Invalid Date", { expiresAt: new Date(Number.NaN) }, "expiresAt", null],
    ["expiresAt a boolean", { expiresAt: true }, "expiresAt", "Must be a date."],
  ])("%s", async (_label, changes, field, message) => {
    const error = await validationError(passes, { ...good, ...changes });
    const messages = error.fieldErrors[field];
    expect(messages, JSON.stringify(error.fieldErrors)).toBeDefined();
    expect(messages!.length).toBeGreaterThan(0);
    for (const text of messages!) expect(text.trim()).not.toBe("");
    if (message !== null) expect(messages).toContain(message);
    expect(Object.keys(error.fieldErrors)).toEqual([field]);
    expect(error.message).toContain(field);
    expect(error.code).toBe("VISITOR_PASS_VALIDATION");
    expect(error).toBeInstanceOf(VisitorPassError);
    expect(await passes.list()).toEqual([]);
  });

  it("reports every bad field at once", async () => {
    const error = await validationError(passes, { email: "x", scope: "", maxUses: 0 });
    expect(Object.keys(error.fieldErrors).sort()).toEqual(["email", "maxUses", "scope"]);
    expect(await passes.list()).toEqual([]);
  });

  it("refuses no input at all", async () => {
    const error = await validationError(passes, undefined);
    expect(Object.keys(error.fieldErrors).sort()).toEqual(["email", "scope"]);
    expect(await passes.list()).toEqual([]);
  });

  it("accepts names in any script, with accents, apostrophes, hyphens and inner spaces", async () => {
    const visitor = await passes.create({
      ...good,
      firstName: "Zoë-Marie",
      lastName: "O’Brien de la Peña 李",
    });
    expect(visitor.fullName).toBe("Zoë-Marie O’Brien de la Peña 李");
  });

  it("accepts the limits themselves: scope of 100, names of 150, email of 254", async () => {
    const email = `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.org`;
    expect(email).toHaveLength(254);
    const visitor = await passes.create({
      email,
      scope: "S".repeat(100),
      firstName: "F".repeat(150),
      lastName: "L".repeat(150),
    });
    expect(visitor.email).toBe(email);
    expect(visitor.scope).toHaveLength(100);
    expect(visitor.firstName).toHaveLength(150);
    const stored = await passes.get(visitor.uuid);
    expect(stored?.lastName).toBe("L".repeat(150));
  });
});

describe("create() defaults", () => {
  let passes: VisitorPass;
  let now = T0;
  beforeAll(async () => {
    passes = createVisitorPass({
      env: {},
      database: "sqlite::memory:",
      now: () => now,
      tokenExpiry: 120,
      sessionExpiry: 3600,
    });
    await passes.migrate();
  });
  afterAll(() => passes.close());

  it("fills every field the caller left out, and stores what it returns", async () => {
    const visitor = await passes.create(good);
    const expected = {
      email: "ada@example.org",
      scope: "REFERENCE_REQUEST",
      firstName: "",
      lastName: "",
      fullName: "",
      context: null,
      createdAt: T0,
      lastUpdatedAt: T0,
      expiresAt: new Date(T0.getTime() + 120_000),
      isActive: true,
      sessionExpiry: 3600,
      maxUses: null,
      uses: 0,
      isValid: true,
      isSelfService: false,
    };
    expect(visitor).toMatchObject(expected);
    expect(visitor.uuid).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(visitor.id).toEqual(expect.any(Number));
    const stored = await passes.get(visitor.uuid);
    expect(stored).toMatchObject({ ...expected, id: visitor.id, uuid: visitor.uuid });
  });

  it("gives each pass its own uuid", async () => {
    const a = await passes.create(good);
    const b = await passes.create(good);
    expect(a.uuid).not.toBe(b.uuid);
    expect(a.id).not.toBe(b.id);
  });

  it("trims names and the email address", async () => {
    const visitor = await passes.create({
      email: "  ada@example.org ",
      scope: "S",
      firstName: "  Ada ",
      lastName: " Lovelace ",
    });
    expect(visitor).toMatchObject({
      email: "ada@example.org",
      firstName: "Ada",
      lastName: "Lovelace",
    });
    expect(visitor.fullName).toBe("Ada Lovelace");
  });

  it("expiresAt: null makes a pass that never expires", async () => {
    const visitor = await passes.create({ ...good, expiresAt: null });
    expect(visitor.expiresAt).toBeNull();
    now = new Date("2999-01-01T00:00:00Z");
    try {
      const stored = await passes.get(visitor.uuid);
      expect(stored?.expiresAt).toBeNull();
      expect(stored?.hasExpired).toBe(false);
      expect(stored?.isValid).toBe(true);
    } finally {
      now = T0;
    }
  });

  it("takes expiresAt as a Date, an ISO string or a timestamp", async () => {
    const at = new Date("2025-04-01T00:00:00.000Z");
    for (const expiresAt of [at, "2025-04-01T00:00:00.000Z", at.getTime()]) {
      const visitor = await passes.create({ ...good, expiresAt });
      expect(visitor.expiresAt).toEqual(at);
      expect((await passes.get(visitor.uuid))?.expiresAt).toEqual(at);
    }
  });

  it("takes sessionExpiry 0 and null per pass, over the configured default", async () => {
    expect((await passes.create({ ...good, sessionExpiry: 0 })).sessionExpiry).toBe(0);
    const none = await passes.create({ ...good, sessionExpiry: null });
    expect(none.sessionExpiry).toBeNull();
    expect((await passes.get(none.uuid))?.sessionExpiry).toBeNull();
  });

  it("keeps a JSON context as given, nested values included", async () => {
    const context = { caseId: 12, tags: ["a", "b"], nested: { ok: true, none: null }, n: 1.5 };
    const visitor = await passes.create({ ...good, context, maxUses: 2 });
    expect(visitor.context).toEqual(context);
    expect(visitor.maxUses).toBe(2);
    expect((await passes.get(visitor.uuid))?.context).toEqual(context);
  });

  it("takes tokenExpiry from the environment when no option is set", async () => {
    const fromEnv = createVisitorPass({
      env: { VISITOR_TOKEN_EXPIRY: "60", VISITOR_SESSION_EXPIRY: "null" },
      database: "sqlite::memory:",
      now: () => T0,
    });
    await fromEnv.migrate();
    try {
      const visitor = await fromEnv.create(good);
      expect(visitor.expiresAt).toEqual(new Date(T0.getTime() + 60_000));
      expect(visitor.sessionExpiry).toBeNull();
    } finally {
      await fromEnv.close();
    }
  });
});
