import { describe, expect, it } from "vitest";
import { flowFixture, openPasses, visit } from "../../test/support/flow.js";
import {
  SCOPE_ANY,
  type Visitor,
  VisitorAccessDenied,
  VisitorPassConfigError,
  VisitorPassError,
} from "../index.js";
import { createGuard, type Guard, type GuardOptions, guardOf } from "./guard.js";

const fx = flowFixture();
const req = { path: "/reference" };

/** What a guarded route does with `req` for `visitor` (no session, the store working). */
function guarded<Req>(guard: Guard<Req>, visitor: Visitor | null, request = req as Req) {
  return fx.flow.guard(guard, request, visitor, {
    visit: visit("/reference"),
    session: null,
    unavailable: null,
  });
}

/** Let through, with a visit to log (`true`) or without (`false`). */
function admitted(logged: boolean) {
  return logged
    ? { kind: "continue", log: { visitor: expect.any(Object) } }
    : { kind: "continue", log: null };
}

describe("createGuard at setup", () => {
  it.each<[string, unknown]>([
    ["an empty scope", { scope: "" }],
    ["a whitespace scope", { scope: "  \t" }],
    ["a missing scope", {}],
    ["a non-string scope", { scope: 42 }],
    ["no options at all", undefined],
  ])("throws VisitorPassConfigError for %s", (_label, options) => {
    expect(() => createGuard(options as never)).toThrow(VisitorPassConfigError);
    try {
      createGuard(options as never);
    } catch (error) {
      expect((error as VisitorPassConfigError).option).toBe("scope");
      expect((error as Error).message).toContain("scope");
    }
  });

  it("throws VisitorPassConfigError for a self-service guard of SCOPE_ANY", () => {
    expect(() => createGuard({ scope: SCOPE_ANY, selfService: true })).toThrow(
      VisitorPassConfigError,
    );
  });

  it("throws VisitorPassConfigError for a bypass that is not a function", () => {
    expect(() => createGuard({ scope: "S", bypass: true as never })).toThrow(
      VisitorPassConfigError,
    );
  });

  it.each<[string, unknown]>([
    ["an empty string", ""],
    ["a line break", "no-store\r\nSet-Cookie: a=b"],
    ["true", true],
    ["a number", 0],
  ])("refuses %s as a Cache-Control value", async (_label, value) => {
    expect(() => createGuard({ scope: "S", cacheControl: value as never })).toThrow(
      VisitorPassConfigError,
    );
    await expect(openPasses({ guardCacheControl: value as never })).rejects.toThrow(
      VisitorPassConfigError,
    );
  });
});

describe("what a guard lets through", () => {
  it("admits a visitor of its scope, and logs the visit", async () => {
    const visitor = await fx.create({ scope: "REFERENCE" });
    const guard = createGuard({ scope: "REFERENCE" });
    expect(guard.scope).toBe("REFERENCE");
    expect(await guarded(guard, visitor)).toMatchObject({
      kind: "continue",
      visitor: { uuid: visitor.uuid },
      log: { visitor: { uuid: visitor.uuid } },
    });
  });

  it("denies a visitor of another scope with VisitorAccessDenied carrying its own scope", async () => {
    const visitor = await fx.create({ scope: "PAYMENT" });
    const result = await guarded(createGuard({ scope: "REFERENCE" }), visitor);
    expect(result).toMatchObject({ kind: "respond", status: 403, location: null });
    const error = result.kind === "respond" ? result.error : null;
    expect(error).toBeInstanceOf(VisitorAccessDenied);
    expect((error as VisitorAccessDenied).scope).toBe("REFERENCE");
    expect(error?.status).toBe(403);
  });

  it("compares scopes exactly", async () => {
    const visitor = await fx.create({ scope: "reference" });
    expect(await guarded(createGuard({ scope: "REFERENCE" }), visitor)).toMatchObject({
      kind: "respond",
      status: 403,
    });
  });

  it("denies when there is no visitor", async () => {
    expect(await guarded(createGuard({ scope: "REFERENCE" }), null)).toMatchObject({
      kind: "respond",
      status: 403,
      location: null,
    });
  });

  it("sends a denied request to self-service when the guard says so", async () => {
    const result = await guarded(createGuard({ scope: "REFERENCE", selfService: true }), null);
    expect(result).toMatchObject({ kind: "respond", status: 302, error: null });
    expect(result.kind === "respond" && result.location).toMatch(
      /^\/visitors\/self-service\/[0-9a-f-]{36}$/,
    );
  });

  it("SCOPE_ANY admits a visitor of any scope, but not nobody", async () => {
    const guard = createGuard({ scope: SCOPE_ANY });
    for (const scope of ["REFERENCE", "PAYMENT", "x"]) {
      const visitor = await fx.create({ scope });
      expect(await guarded(guard, visitor)).toMatchObject(admitted(true));
    }
    const denied = await guarded(guard, null);
    expect(denied).toMatchObject({ kind: "respond", status: 403 });
    expect(denied.kind === "respond" && (denied.error as VisitorAccessDenied).scope).toBe("*");
  });

  it("bypass admits anyone it returns true for, sync or async, without a visit log", async () => {
    const seen: unknown[] = [];
    const sync = createGuard({
      scope: "REFERENCE",
      bypass: (request) => {
        seen.push(request);
        return true;
      },
    });
    const async = createGuard({ scope: "REFERENCE", bypass: async () => true });
    const syncResult = guarded(sync, null);
    // Nothing to wait for: answered at once.
    expect(syncResult).not.toBeInstanceOf(Promise);
    expect(syncResult).toMatchObject({ ...admitted(false), visitor: null });
    expect(await guarded(async, null)).toMatchObject({ ...admitted(false), visitor: null });
    const other = await fx.create({ scope: "PAYMENT" });
    expect(await guarded(async, other)).toMatchObject(admitted(false));
    expect(seen).toEqual([req]);
  });

  it("bypass returning false (sync or async) leaves the decision to the scope", async () => {
    for (const bypass of [() => false, async () => false]) {
      const guard = createGuard({ scope: "REFERENCE", bypass });
      expect(await guarded(guard, null)).toMatchObject({ kind: "respond", status: 403 });
      const visitor = await fx.create({ scope: "REFERENCE" });
      expect(await guarded(guard, visitor)).toMatchObject(admitted(true));
    }
  });

  it("is not asked about a visitor of its scope", async () => {
    let asked = 0;
    const guard = createGuard({
      scope: "REFERENCE",
      bypass: () => {
        asked += 1;
        return true;
      },
    });
    const visitor = await fx.create({ scope: "REFERENCE" });
    expect(await guarded(guard, visitor)).toMatchObject(admitted(true));
    expect(asked).toBe(0);
  });

  it("a bypass that throws makes the guard reject with its error", async () => {
    const guard = createGuard({
      scope: "REFERENCE",
      bypass: () => {
        throw new Error("auth backend down");
      },
    });
    await expect(guarded(guard, null)).rejects.toThrow("auth backend down");
    const rejecting = createGuard({
      scope: "REFERENCE",
      bypass: () => Promise.reject(new Error("auth backend down")),
    });
    await expect(guarded(rejecting, null)).rejects.toThrow("auth backend down");
  });

  it("logVisit: false admits without a visit log", async () => {
    const visitor = await fx.create({ scope: "REFERENCE" });
    const guard = createGuard({ scope: "REFERENCE", logVisit: false });
    expect(await guarded(guard, visitor)).toMatchObject({
      ...admitted(false),
      visitor: { uuid: visitor.uuid },
    });
  });
});

describe("guardOf", () => {
  it("checks a guard's options once and keeps the guard for the same options object", async () => {
    const options: GuardOptions<unknown> = { scope: "REFERENCE" };
    const guard = guardOf(options);
    expect(guardOf(options)).toBe(guard);
    expect(guard.scope).toBe("REFERENCE");
    // Other options, even equal ones, are another guard.
    const equal = guardOf({ scope: "REFERENCE" });
    expect(equal).not.toBe(guard);
    const visitor = await fx.create({ scope: "REFERENCE" });
    expect(await guarded(guard, visitor)).toMatchObject(admitted(true));
    expect(await guarded(equal, visitor)).toMatchObject(admitted(true));
  });

  it("throws the setup error for bad options, each time they are used", () => {
    const options = { scope: "" };
    expect(() => guardOf(options)).toThrow(VisitorPassConfigError);
    expect(() => guardOf(options)).toThrow(VisitorPassConfigError);
    expect(() => guardOf({ scope: SCOPE_ANY, selfService: true })).toThrow(VisitorPassError);
  });
});
