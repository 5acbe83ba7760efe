import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createVisitorPass,
  InvalidVisitorPass,
  MalformedVisitorToken,
  SCOPE_ANY,
  Visitor,
  VisitorAccessDenied,
  type VisitorPass,
  VisitorPassConfigError,
  VisitorPassError,
  VisitorPassValidationError,
} from "../index.js";
import { flowOf } from "./visitor-pass.js";

const T0 = new Date("2025-03-01T10:00:00.000Z");
const UNKNOWN = "0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

let now: Date;
let passes: VisitorPass;

function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

beforeEach(async () => {
  now = T0;
  passes = createVisitorPass({
    env: {},
    database: "sqlite::memory:",
    now: () => now,
    tokenExpiry: 300,
  });
  await passes.migrate();
});

afterEach(async () => {
  await passes?.close();
});

/** What `await fn()` gives, as a promise, whether `fn` throws or rejects. */
async function awaited<T>(fn: () => Promise<T>): Promise<T> {
  return await fn();
}

function request(url: string) {
  return { method: "GET", url, userAgent: "test", referer: null, ip: "127.0.0.1" };
}

describe("migrate", () => {
  it("is idempotent", async () => {
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    await passes.migrate();
    await passes.migrate();
    expect((await passes.get(visitor.uuid))?.email).toBe("a@example.org");
  });
});

describe("get", () => {
  it("returns the Visitor for a known uuid, in either case", async () => {
    const created = await passes.create({ email: "a@example.org", scope: "S", firstName: "Ann" });
    const found = await passes.get(created.uuid);
    expect(found).toBeInstanceOf(Visitor);
    expect(found?.serialize()).toEqual(created.serialize());
    expect((await passes.get(created.uuid.toUpperCase()))?.id).toBe(created.id);
  });

  it("returns null for an unknown uuid", async () => {
    expect(await passes.get(UNKNOWN)).toBeNull();
  });

  it.each([
    "",
    "nope",
    `${UNKNOWN} `,
    "' OR '1'='1",
    `${UNKNOWN}' OR '1'='1`,
    "1; DROP TABLE visitor_pass_visitors; --",
    `x' UNION SELECT * FROM visitor_pass_visitors --`,
  ])("throws MalformedVisitorToken for %j", async (value) => {
    await passes.create({ email: "a@example.org", scope: "S" });
    await expect(awaited(() => passes.get(value))).rejects.toBeInstanceOf(MalformedVisitorToken);
    expect(await passes.list()).toHaveLength(1);
  });

  it("get() of a non-uuid rejects its promise instead of throwing synchronously", async () => {
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = passes.get("nope");
    }).not.toThrow();
    await expect(promise).rejects.toBeInstanceOf(MalformedVisitorToken);
  });

  it("throws MalformedVisitorToken for what is not a string", async () => {
    await expect(awaited(() => passes.get(undefined as never))).rejects.toBeInstanceOf(
      MalformedVisitorToken,
    );
    await expect(awaited(() => passes.get(42 as never))).rejects.toBeInstanceOf(
      MalformedVisitorToken,
    );
  });
});

describe("deactivate / reactivate", () => {
  it("deactivate turns the pass off and stamps lastUpdatedAt", async () => {
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    now = at(10);
    const off = await passes.deactivate(visitor.uuid);
    expect(off?.isActive).toBe(false);
    expect(off?.isValid).toBe(false);
    expect(off?.lastUpdatedAt).toEqual(at(10));
    const stored = await passes.get(visitor.uuid);
    expect(stored?.isActive).toBe(false);
    expect(stored?.expiresAt).toEqual(visitor.expiresAt);
    expect(stored?.createdAt).toEqual(T0);
    expect(() => stored?.validate()).toThrow(InvalidVisitorPass);
  });

  it("reactivate turns it on again with expiresAt = now + tokenExpiry", async () => {
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    await passes.deactivate(visitor.uuid);
    now = at(3600);
    expect((await passes.get(visitor.uuid))?.hasExpired).toBe(true);
    const on = await passes.reactivate(visitor.uuid);
    expect(on).toMatchObject({ isActive: true, isValid: true, lastUpdatedAt: at(3600) });
    expect(on?.expiresAt).toEqual(at(3600 + 300));
    expect((await passes.get(visitor.uuid))?.expiresAt).toEqual(at(3900));
  });

  it("reactivate gives a never-expiring pass a link expiry too", async () => {
    const visitor = await passes.create({ email: "a@example.org", scope: "S", expiresAt: null });
    now = at(5);
    expect((await passes.reactivate(visitor.uuid))?.expiresAt).toEqual(at(305));
  });

  it("both return null for an unknown uuid and create nothing", async () => {
    expect(await passes.deactivate(UNKNOWN)).toBeNull();
    expect(await passes.reactivate(UNKNOWN)).toBeNull();
    expect(await passes.list()).toEqual([]);
  });

  it("both throw MalformedVisitorToken for a non-uuid", async () => {
    await expect(passes.deactivate("nope")).rejects.toBeInstanceOf(MalformedVisitorToken);
    await expect(passes.reactivate("' OR 1=1 --")).rejects.toBeInstanceOf(MalformedVisitorToken);
  });

  it("a deactivated pass no longer admits; a reactivated one does", async () => {
    const flow = flowOf(passes, "test()");
    const land = (uuid: string) =>
      flow.recognise(request(`/p?vuid=${uuid}`), null, { authenticated: false });
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    await passes.deactivate(visitor.uuid);
    expect(await land(visitor.uuid)).toMatchObject({
      kind: "continue",
      visitor: null,
      recognition: { kind: "refused" },
    });
    await passes.reactivate(visitor.uuid);
    expect(await land(visitor.uuid)).toMatchObject({
      kind: "continue",
      visitor: { uuid: visitor.uuid },
      recognition: { kind: "admitted" },
    });
  });
});

describe("logs", () => {
  it("returns the pass's visits, newest first, and only its own", async () => {
    const flow = flowOf(passes, "test()");
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    const other = await passes.create({ email: "b@example.org", scope: "S" });
    for (const [second, path] of [
      [1, "/first"],
      [2, "/second"],
      [3, "/third"],
    ] as const) {
      now = at(second);
      flow.recordVisit(visitor, request(path), null, 200);
    }
    flow.recordVisit(other, request("/other"), null, 200);
    const logs = await passes.logs(visitor.uuid);
    expect(logs.map((log) => log.requestUri)).toEqual(["/third", "/second", "/first"]);
    expect(logs.map((log) => log.timestamp)).toEqual([at(3), at(2), at(1)]);
    expect(logs.every((log) => log.visitorId === visitor.id)).toBe(true);
    expect((await passes.logs(other.uuid)).map((log) => log.requestUri)).toEqual(["/other"]);
  });

  it("orders visits in the same millisecond newest first too", async () => {
    const flow = flowOf(passes, "test()");
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    for (const path of ["/1", "/2", "/3"]) flow.recordVisit(visitor, request(path), null, 200);
    expect((await passes.logs(visitor.uuid)).map((log) => log.requestUri)).toEqual([
      "/3",
      "/2",
      "/1",
    ]);
  });

  it("is empty for a pass without visits and for an unknown uuid", async () => {
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    expect(await passes.logs(visitor.uuid)).toEqual([]);
    expect(await passes.logs(UNKNOWN)).toEqual([]);
  });

  it("throws MalformedVisitorToken for a non-uuid", async () => {
    await expect(passes.logs("nope")).rejects.toBeInstanceOf(MalformedVisitorToken);
  });
});

describe("list", () => {
  async function seed() {
    now = at(1);
    const ann = await passes.create({
      email: "ann@example.org",
      scope: "REFERENCE",
      firstName: "Ann",
      lastName: "Smith",
    });
    now = at(2);
    const bob = await passes.create({
      email: "bob_b@example.org",
      scope: "PAYMENT",
      firstName: "Bob",
      lastName: "Jones",
    });
    now = at(3);
    const cat = await passes.create({
      email: "cat@example.net",
      scope: "REFERENCE",
      firstName: "Cat",
      lastName: "100% Smithers",
    });
    await passes.deactivate(bob.uuid);
    return { ann, bob, cat };
  }

  const emails = (visitors: Visitor[]) => visitors.map((visitor) => visitor.email);

  it("lists every pass newest first", async () => {
    await seed();
    expect(emails(await passes.list())).toEqual([
      "cat@example.net",
      "bob_b@example.org",
      "ann@example.org",
    ]);
    const [first] = await passes.list();
    expect(first).toBeInstanceOf(Visitor);
  });

  it("orders passes created in the same millisecond newest first", async () => {
    for (const name of ["a", "b", "c"]) await passes.create({ email: `${name}@x.org`, scope: "S" });
    expect(emails(await passes.list())).toEqual(["c@x.org", "b@x.org", "a@x.org"]);
  });

  it("filters by exact scope", async () => {
    await seed();
    expect(emails(await passes.list({ scope: "REFERENCE" }))).toEqual([
      "cat@example.net",
      "ann@example.org",
    ]);
    expect(await passes.list({ scope: "reference" })).toEqual([]);
    expect(await passes.list({ scope: "REF" })).toEqual([]);
  });

  it("filters by activity", async () => {
    await seed();
    expect(emails(await passes.list({ active: false }))).toEqual(["bob_b@example.org"]);
    expect(emails(await passes.list({ active: true }))).toEqual([
      "cat@example.net",
      "ann@example.org",
    ]);
  });

  it("searches names, email and scope, ignoring case", async () => {
    await seed();
    expect(emails(await passes.list({ search: "smith" }))).toEqual([
      "cat@example.net",
      "ann@example.org",
    ]);
    expect(emails(await passes.list({ search: "JONES" }))).toEqual(["bob_b@example.org"]);
    expect(emails(await passes.list({ search: "example.net" }))).toEqual(["cat@example.net"]);
    expect(emails(await passes.list({ search: "payment" }))).toEqual(["bob_b@example.org"]);
    expect(await passes.list({ search: "nobody" })).toEqual([]);
  });

  it("treats % and _ in a search as plain characters", async () => {
    await seed();
    expect(emails(await passes.list({ search: "_" }))).toEqual(["bob_b@example.org"]);
    expect(emails(await passes.list({ search: "100%" }))).toEqual(["cat@example.net"]);
    expect(await passes.list({ search: "%%" })).toEqual([]);
    expect(await passes.list({ search: "!" })).toEqual([]);
  });

  it("combines filters", async () => {
    await seed();
    expect(emails(await passes.list({ scope: "REFERENCE", search: "ann" }))).toEqual([
      "ann@example.org",
    ]);
    expect(await passes.list({ scope: "PAYMENT", active: true })).toEqual([]);
  });

  it("pages with limit and offset", async () => {
    await seed();
    expect(emails(await passes.list({ limit: 2 }))).toEqual([
      "cat@example.net",
      "bob_b@example.org",
    ]);
    expect(emails(await passes.list({ limit: 2, offset: 2 }))).toEqual(["ann@example.org"]);
    expect(await passes.list({ offset: 3 })).toEqual([]);
  });

  it.each([
    [{ limit: 0 }, "limit"],
    [{ limit: 1001 }, "limit"],
    [{ limit: 1.5 }, "limit"],
    [{ offset: -1 }, "offset"],
    [{ active: "yes" }, "active"],
    [{ scope: 3 }, "scope"],
    [{ search: "x".repeat(201) }, "search"],
  ])("refuses %j with VisitorPassValidationError", async (filter, field) => {
    const error = await passes.list(filter as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VisitorPassValidationError);
    expect((error as VisitorPassValidationError).fieldErrors[field]).toBeDefined();
  });
});

describe("purge", () => {
  async function seed() {
    const old = await passes.create({ email: "old@example.org", scope: "S", expiresAt: at(-60) });
    const soon = await passes.create({ email: "soon@example.org", scope: "S" }); // at(300)
    const never = await passes.create({ email: "never@example.org", scope: "S", expiresAt: null });
    return { old, soon, never };
  }

  it("deletes passes that expired before now by default, and returns the count", async () => {
    const { old, soon, never } = await seed();
    expect(await passes.purge()).toBe(1);
    expect(await passes.get(old.uuid)).toBeNull();
    expect(await passes.get(soon.uuid)).not.toBeNull();
    expect(await passes.get(never.uuid)).not.toBeNull();
    expect(await passes.purge()).toBe(0);
  });

  it("follows the clock for the default", async () => {
    const { soon, never } = await seed();
    now = at(301);
    expect(await passes.purge()).toBe(2);
    expect(await passes.get(soon.uuid)).toBeNull();
    expect(await passes.get(never.uuid)).not.toBeNull();
  });

  it("takes `before`, and keeps a pass expiring exactly then", async () => {
    const { soon } = await seed();
    expect(await passes.purge({ before: at(300) })).toBe(1);
    expect(await passes.get(soon.uuid)).not.toBeNull();
    expect(await passes.purge({ before: at(300.001) })).toBe(1);
    expect(await passes.get(soon.uuid)).toBeNull();
  });

  it("never deletes a pass without expiry", async () => {
    const { never } = await seed();
    expect(await passes.purge({ before: new Date("9999-01-01T00:00:00Z") })).toBe(2);
    expect((await passes.list()).map((visitor) => visitor.uuid)).toEqual([never.uuid]);
  });

  it("deletes the purged passes' logs with them", async () => {
    const flow = flowOf(passes, "test()");
    const { old, never } = await seed();
    flow.recordVisit(old, request("/old"), null, 200);
    flow.recordVisit(never, request("/kept"), null, 200);
    expect(await passes.purge()).toBe(1);
    expect((await passes.logs(never.uuid)).map((log) => log.requestUri)).toEqual(["/kept"]);
  });

  it("deletes more passes than one batch holds", async () => {
    for (let i = 0; i < 1005; i++) {
      await passes.create({ email: `p${i}@example.org`, scope: "S", expiresAt: at(-1) });
    }
    expect(await passes.purge()).toBe(1005);
    expect(await passes.list()).toEqual([]);
  });

  it("refuses a `before` that is not a valid date", async () => {
    await expect(passes.purge({ before: new Date(Number.NaN) })).rejects.toBeInstanceOf(
      VisitorPassValidationError,
    );
    await expect(passes.purge({ before: "2025-01-01" as never })).rejects.toBeInstanceOf(
      VisitorPassValidationError,
    );
  });
});

describe("events", () => {
  it("on() calls the listener with the visitor, and returns an unsubscribe function", async () => {
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    const seen: string[] = [];
    const off = passes.on("selfServiceVisitorCreated", (v) => {
      seen.push(v.uuid);
    });
    expect(off).toBeTypeOf("function");
    await passes.emit("selfServiceVisitorCreated", visitor);
    off();
    await passes.emit("selfServiceVisitorCreated", visitor);
    expect(seen).toEqual([visitor.uuid]);
  });

  it("emit awaits every listener, in the order they subscribed", async () => {
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    const seen: string[] = [];
    passes.on("selfServiceVisitorCreated", async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen.push("slow");
    });
    passes.on("selfServiceVisitorCreated", () => {
      seen.push("fast");
    });
    await passes.emit("selfServiceVisitorCreated", visitor);
    expect(seen).toEqual(["slow", "fast"]);
  });

  it("emit rejects with a listener's error", async () => {
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    passes.on("selfServiceVisitorCreated", async () => {
      throw new Error("mail server down");
    });
    await expect(passes.emit("selfServiceVisitorCreated", visitor)).rejects.toThrow(
      "mail server down",
    );
  });

  it("emit with no listeners resolves", async () => {
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    await expect(passes.emit("selfServiceVisitorCreated", visitor)).resolves.toBeUndefined();
  });

  it("unsubscribing one listener leaves the others", async () => {
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    const seen: string[] = [];
    const off = passes.on("selfServiceVisitorCreated", () => {
      seen.push("a");
    });
    passes.on("selfServiceVisitorCreated", () => {
      seen.push("b");
    });
    off();
    off();
    await passes.emit("selfServiceVisitorCreated", visitor);
    expect(seen).toEqual(["b"]);
  });
});

describe("close", () => {
  it("waits for pending visit logs before closing", async () => {
    const file = `${await import("node:os").then((os) => os.tmpdir())}/vp-close-${process.pid}-${Date.now()}.sqlite3`;
    const { rm } = await import("node:fs/promises");
    const database = `sqlite:${file}`;
    try {
      const first = createVisitorPass({ env: {}, database, now: () => T0 });
      await first.migrate();
      const visitor = await first.create({ email: "a@example.org", scope: "S" });
      flowOf(first, "test()").recordVisit(visitor, request("/logged"), null, 200);
      await first.close();
      const second = createVisitorPass({ env: {}, database, now: () => T0 });
      try {
        expect((await second.logs(visitor.uuid)).map((log) => log.requestUri)).toEqual(["/logged"]);
      } finally {
        await second.close();
      }
    } finally {
      for (const suffix of ["", "-wal", "-shm"]) await rm(file + suffix, { force: true });
    }
  });

  it("after close(), using the service rejects with an error instead of hanging", async () => {
    const visitor = await passes.create({ email: "a@example.org", scope: "S" });
    await passes.close();
    const closed = { name: "VisitorPassError", code: "VISITOR_PASS_CLOSED" };
    await expect(passes.get(visitor.uuid)).rejects.toMatchObject(closed);
    await expect(passes.create({ email: "b@example.org", scope: "S" })).rejects.toMatchObject(
      closed,
    );
    await expect(passes.list()).rejects.toThrow("This VisitorPass has been closed.");
  });

  it("close() twice is harmless", async () => {
    await passes.close();
    await expect(passes.close()).resolves.toBeUndefined();
  });

  it("close() on a service that never ran a query resolves", async () => {
    const idle = createVisitorPass({ env: {}, database: "sqlite::memory:" });
    await expect(idle.close()).resolves.toBeUndefined();
  });

  it("leaves a Kysely instance the app owns open", async () => {
    const { Kysely, SqliteDialect } = await import("kysely");
    const { default: Sqlite } = await import("better-sqlite3");
    const db = new Kysely<any>({
      dialect: new SqliteDialect({ database: new Sqlite(":memory:") }),
    });
    try {
      const owned = createVisitorPass({ env: {}, database: db, tablePrefix: "app_vp_" });
      await owned.migrate();
      const visitor = await owned.create({ email: "a@example.org", scope: "S" });
      await owned.close();
      const rows = await db.selectFrom("app_vp_visitors").select("uuid").execute();
      expect(rows).toEqual([{ uuid: visitor.uuid }]);
    } finally {
      await db.destroy();
    }
  });
});

describe("flowOf", () => {
  it("gives the flow of a service, and a clear error for anything else", () => {
    expect(flowOf(passes, "test()").config).toBe(passes.config);
    for (const value of [undefined, null, {}, "passes"]) {
      expect(() => flowOf(value as never, "visitorRequest()")).toThrow(
        /visitorRequest\(\) needs the object createVisitorPass\(\) returned, e\.g\. visitorRequest\(passes\)/,
      );
    }
  });
});

describe("errors", () => {
  it("VisitorAccessDenied is a 403 carrying the scope", () => {
    const error = new VisitorAccessDenied("REFERENCE");
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(VisitorPassError);
    expect(error).toMatchObject({
      status: 403,
      statusCode: 403,
      scope: "REFERENCE",
      code: "VISITOR_ACCESS_DENIED",
      name: "VisitorAccessDenied",
      expose: true,
    });
    expect(error.message).not.toBe("");
  });

  it("MalformedVisitorToken is a 400 saying 'Malformed visitor token.'", () => {
    const error = new MalformedVisitorToken();
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(VisitorPassError);
    expect(error).toMatchObject({
      status: 400,
      statusCode: 400,
      code: "MALFORMED_VISITOR_TOKEN",
      name: "MalformedVisitorToken",
      message: "Malformed visitor token.",
    });
  });

  it("every error is an Error and a VisitorPassError with its own code and name", () => {
    const errors = [
      new InvalidVisitorPass("expired"),
      new VisitorAccessDenied(SCOPE_ANY),
      new MalformedVisitorToken(),
      new VisitorPassConfigError("sessionKey", "", "must be a non-empty string"),
      new VisitorPassValidationError({ email: ["Enter a valid email address."] }),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(VisitorPassError);
      expect(error.code).toMatch(/^[A-Z_]+$/);
      expect(error.name).toBe(error.constructor.name);
      expect(error.stack).toContain(error.name);
    }
    expect(new Set(errors.map((error) => error.code)).size).toBe(errors.length);
  });

  it("VisitorPassValidationError says which field is wrong in its message", () => {
    const error = new VisitorPassValidationError({ email: ["Enter a valid email address."] });
    expect(error.message).toContain("email: Enter a valid email address.");
  });

  it("SCOPE_ANY is '*'", () => {
    expect(SCOPE_ANY).toBe("*");
  });
});
