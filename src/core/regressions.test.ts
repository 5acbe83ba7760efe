// Regression tests for bugs found in review: each failed before its fix.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createVisitorPass,
  InvalidVisitorPass,
  MalformedVisitorToken,
  type SessionPort,
  Visitor,
  type VisitorPass,
  VisitorPassConfigError,
} from "../index.js";
import { flowOf } from "./visitor-pass.js";

function configError(options: Parameters<typeof createVisitorPass>[0]): VisitorPassConfigError {
  try {
    createVisitorPass(options);
  } catch (error) {
    expect(error).toBeInstanceOf(VisitorPassConfigError);
    return error as VisitorPassConfigError;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be refused`);
}

// → src/core/config.test.ts
describe("config bugs", () => {
  it("refuses a postgres/mysql string that is not a URL with a // authority", () => {
    for (const database of ["postgres:not a url", "postgresql:db.example", "mysql:nothing"]) {
      const error = configError({ env: {}, database });
      expect(error.option).toBe("database");
      expect(error.message).toContain(database);
    }
  });

  it("never shows any part of a password that contains an @", () => {
    const error = configError({ env: {}, database: "postgres://admin:Sup3r@S3cret@db:port/app" });
    expect(error.message).not.toContain("S3cret");
    expect(String(error.value)).not.toContain("S3cret");
  });

  it("a tokenExpiry too large for a Date does not make passes that never expire", async () => {
    let passes: VisitorPass;
    try {
      passes = createVisitorPass({ env: {}, database: "sqlite::memory:", tokenExpiry: 1e16 });
    } catch (error) {
      expect(error).toBeInstanceOf(VisitorPassConfigError);
      return;
    }
    await passes.migrate();
    try {
      // Refusing to create is acceptable; creating a pass that never expires is not.
      const visitor = await passes.create({ email: "a@example.org", scope: "S" }).catch(() => null);
      if (visitor === null) return;
      expect(Number.isNaN(visitor.expiresAt?.getTime() ?? Number.NaN)).toBe(false);
      expect((await passes.get(visitor.uuid))?.expiresAt).not.toBeNull();
    } finally {
      await passes.close();
    }
  });
});

// → src/core/visitor-pass.test.ts
describe("service bugs", () => {
  let passes: VisitorPass;
  beforeEach(async () => {
    passes = createVisitorPass({ env: {}, database: "sqlite::memory:" });
    await passes.migrate();
  });
  afterEach(() => passes.close());

  it("get() of a non-uuid rejects its promise instead of throwing synchronously", async () => {
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = passes.get("nope");
    }).not.toThrow();
    await expect(promise).rejects.toBeInstanceOf(MalformedVisitorToken);
  });
});

// → src/core/visitor.test.ts
describe("visitor bugs", () => {
  it("validate() says 'used-up' for a pass whose link has no uses left", () => {
    const at = new Date("2025-03-01T10:00:00Z");
    const visitor = new Visitor(
      {
        id: 1,
        uuid: "0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        firstName: "",
        lastName: "",
        email: "a@example.org",
        scope: "S",
        context: null,
        createdAt: at,
        lastUpdatedAt: at,
        expiresAt: null,
        isActive: true,
        sessionExpiry: 0,
        maxUses: 1,
        uses: 1,
      },
      () => at,
    );
    let error: unknown;
    try {
      visitor.validate();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidVisitorPass);
    expect(error).toMatchObject({ reason: "used-up" });
  });
});

// → src/core/flow.test.ts
describe("flow bugs", () => {
  class FakeSession implements SessionPort {
    readonly data = new Map<string, unknown>();
    id: string | null = "s";
    get = (key: string) => this.data.get(key);
    set = (key: string, value: string) => void this.data.set(key, value);
    delete = (key: string) => void this.data.delete(key);
    setCookieLifetime = () => {};
    regenerate = async () => {};
  }

  it.each(["//evil.example/", "/\\evil.example/", "///evil.example/", "/\\/evil.example/"])(
    "the landing redirect for %s stays on this site",
    async (path) => {
      const passes = createVisitorPass({ env: {}, database: "sqlite::memory:" });
      await passes.migrate();
      try {
        const flow = flowOf(passes, "test()");
        const visitor = await passes.create({ email: "a@example.org", scope: "S" });
        const request = {
          method: "GET",
          url: `${path}?vuid=${visitor.uuid}`,
          userAgent: null,
          referer: null,
          ip: null,
        };
        const session = new FakeSession();
        const context = { authenticated: false };
        const recognition = await flow.recognise(request, session, context);
        const { redirectTo } = await flow.settle(request, session, recognition, context);
        expect(redirectTo).not.toBeNull();
        // A Location starting with two slashes (or a slash and a backslash) leaves the site.
        expect(redirectTo).toMatch(/^\/(?![/\\])/);
      } finally {
        await passes.close();
      }
    },
  );
});
