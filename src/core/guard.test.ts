import { describe, expect, it } from "vitest";
import { flowFixture, openPasses, visit, withFlow } from "../../test/support/flow.js";
import {
  SCOPE_ANY,
  type Visitor,
  VisitorAccessDenied,
  VisitorPassConfigError,
  VisitorPassError,
  VisitorPassUnavailable,
} from "../index.js";
import {
  createGuard,
  type Guard,
  type GuardOptions,
  guardOf,
  type MatchRequest,
  matchRequest,
} from "./guard.js";
import type { VisitorFlow } from "./request-flow.js";

const fx = flowFixture();
const req = { path: "/reference" };

/** What a guarded route does with `req` for `visitor` (no session, the store working). */
function guarded<Req>(
  guard: Guard<Req>,
  visitor: Visitor | null,
  request = req as Req,
  at = { url: "/reference", params: null as Record<string, unknown> | null },
) {
  return fx.flow.guard(guard, request, visitor, {
    visit: visit(at.url),
    session: null,
    unavailable: null,
    params: at.params,
  });
}

/** Runs `test` with a flow whose logger keeps its errors in `errors` (and the fixture's passes). */
async function withFlowLogging(errors: string[], test: (flow: VisitorFlow) => Promise<void>) {
  const logger = { warn() {}, error: (message: string) => errors.push(message) };
  // The pass the test created lives in the fixture's database; this flow decides on it as given.
  await withFlow({ logger }, (flow) => test(flow));
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
    ["true", true],
    ["a string", "context.referenceId"],
    ["an object", { id: 42 }],
    ["null", null],
  ])("throws VisitorPassConfigError naming match for a match that is %s", (_label, match) => {
    expect(() => createGuard({ scope: "S", match: match as never })).toThrow(
      expect.objectContaining({ option: "match", message: expect.stringContaining("function") }),
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

describe("a guard's match", () => {
  /** A guard of REFERENCE that admits only the pass's own reference, `/references/:id`. */
  const ownReference = (extra: Partial<GuardOptions<unknown>> = {}) =>
    createGuard<unknown>({
      scope: "REFERENCE",
      match: (visitor, request) => visitor.context?.referenceId === request.params.id,
      ...extra,
    });
  const at = (id: string) => ({ url: `/references/${id}`, params: { id } });

  it("admits the resource it returns true for, with a visit log, and refuses the others with 403", async () => {
    const visitor = await fx.create({ context: { referenceId: "42" } });
    const guard = ownReference();
    expect(guard.matches).toBe(true);
    expect(await guarded(guard, visitor, req, at("42"))).toMatchObject({
      kind: "continue",
      visitor: { uuid: visitor.uuid },
      log: { visitor: { uuid: visitor.uuid } },
    });
    const refused = await guarded(guard, visitor, req, at("43"));
    expect(refused).toMatchObject({ kind: "respond", status: 403, location: null, visitor: null });
    const error = refused.kind === "respond" ? refused.error : null;
    expect(error).toBeInstanceOf(VisitorAccessDenied);
    expect((error as VisitorAccessDenied).scope).toBe("REFERENCE");
    // Nothing to log: a refusal carries no visit.
    expect(refused).not.toHaveProperty("log");
  });

  it("answers at once when match does, and waits for a promise when it returns one", async () => {
    const visitor = await fx.create({ context: { referenceId: "42" } });
    const sync = guarded(ownReference(), visitor, req, at("42"));
    expect(sync).not.toBeInstanceOf(Promise);
    const async = createGuard<unknown>({
      scope: "REFERENCE",
      match: async (v, r) => v.context?.referenceId === r.params.id,
    });
    expect(await guarded(async, visitor, req, at("42"))).toMatchObject(admitted(true));
    expect(await guarded(async, visitor, req, at("43"))).toMatchObject({ status: 403 });
  });

  it("is told the method, the path, the query without the token, and the string params", async () => {
    const visitor = await fx.create({ context: { referenceId: "42" } });
    const seen: [Visitor, MatchRequest][] = [];
    const guard = createGuard<unknown>({
      scope: "REFERENCE",
      match: (v, r) => {
        seen.push([v, r]);
        return true;
      },
    });
    await guarded(guard, visitor, req, {
      url: `/references/42?tab=notes&vuid=${visitor.uuid}&x=1`,
      params: { id: "42", rest: ["a", "b"], n: 7 },
    });
    const [[told, request]] = seen as [[Visitor, MatchRequest]];
    expect(told.uuid).toBe(visitor.uuid);
    expect(request.method).toBe("GET");
    expect(request.path).toBe("/references/42");
    expect([...request.query]).toEqual([
      ["tab", "notes"],
      ["x", "1"],
    ]);
    expect({ ...request.params }).toEqual({ id: "42" });
    expect(Object.isFrozen(request.params)).toBe(true);
  });

  it("refuses (fails closed) for any answer but true: a truthy value, undefined, a throw, a rejection", async () => {
    const visitor = await fx.create({ context: { referenceId: "42" } });
    const errors: string[] = [];
    await withFlowLogging(errors, async (flow) => {
      for (const match of [
        () => 1,
        () => "yes",
        () => undefined,
        () => {
          throw new Error("lookup failed");
        },
        () => Promise.reject(new Error("lookup rejected")),
        async () => ({}),
      ]) {
        const guard = createGuard<unknown>({ scope: "REFERENCE", match: match as never });
        const result = await flow.guard(guard, req, visitor, {
          visit: visit("/references/42"),
          session: null,
          unavailable: null,
          params: { id: "42" },
        });
        expect(result).toMatchObject({ kind: "respond", status: 403 });
        expect(result.kind === "respond" && result.error).toBeInstanceOf(VisitorAccessDenied);
      }
    });
    // A throw or a rejection is told to the app; a plain refusal is not an error.
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(
      /match of a guard of scope "REFERENCE" failed for pass \d+.*lookup failed/,
    );
    expect(errors[1]).toContain("lookup rejected");
    for (const line of errors) expect(line).not.toContain(visitor.uuid);
  });

  it("is not asked without a visitor of its scope; a refused visitor is not sent to self-service", async () => {
    let asked = 0;
    const guard = createGuard<unknown>({
      scope: "REFERENCE",
      selfService: true,
      match: () => {
        asked += 1;
        return false;
      },
    });
    const other = await fx.create({ scope: "PAYMENT" });
    expect(await guarded(guard, other)).toMatchObject({ kind: "respond", status: 302 });
    expect(await guarded(guard, null)).toMatchObject({ kind: "respond", status: 302 });
    expect(asked).toBe(0);
    const visitor = await fx.create();
    expect(await guarded(guard, visitor, req, at("43"))).toMatchObject({
      kind: "respond",
      status: 403,
      location: null,
    });
    expect(asked).toBe(1);
  });

  it("a refusal by match still asks bypass, which lets staff through without a log", async () => {
    const visitor = await fx.create({ context: { referenceId: "42" } });
    const guard = ownReference({ bypass: (r) => (r as { staff?: boolean }).staff === true });
    expect(await guarded(guard, visitor, { staff: true }, at("43"))).toMatchObject(admitted(false));
    expect(await guarded(guard, visitor, { staff: false }, at("43"))).toMatchObject({
      status: 403,
    });
  });

  it("with SCOPE_ANY, narrows every scope's pass to what match allows", async () => {
    const guard = createGuard<unknown>({
      scope: SCOPE_ANY,
      match: (v, r) => r.params.owner === v.email,
    });
    const visitor = await fx.create({ scope: "PAYMENT" });
    expect(
      await guarded(guard, visitor, req, { url: "/x", params: { owner: "ada@example.org" } }),
    ).toMatchObject(admitted(true));
    expect(
      await guarded(guard, visitor, req, { url: "/x", params: { owner: "bob@example.org" } }),
    ).toMatchObject({ status: 403 });
  });

  it("with the store failing earlier, refuses with 503 whatever match says", async () => {
    const visitor = await fx.create({ context: { referenceId: "42" } });
    const result = await fx.flow.guard(ownReference(), req, visitor, {
      visit: visit("/references/43"),
      session: null,
      unavailable: new VisitorPassUnavailable(),
      params: { id: "43" },
    });
    expect(result).toMatchObject({ kind: "respond", status: 503 });
  });
});

describe("matchRequest", () => {
  it("splits the URL, upper-cases the method, and keeps no prototype keys from params", () => {
    const request = matchRequest("post", "/a/b?c=1&c=2", JSON.parse('{"__proto__":"x","id":"7"}'));
    expect(request).toMatchObject({ method: "POST", path: "/a/b" });
    expect(request.query.getAll("c")).toEqual(["1", "2"]);
    expect(request.params.id).toBe("7");
    expect(Object.getPrototypeOf(request.params)).toBeNull();
    expect(matchRequest("GET", "/plain", null)).toMatchObject({ path: "/plain", params: {} });
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
