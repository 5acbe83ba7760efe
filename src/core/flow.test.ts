import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type CreateVisitorInput,
  createVisitorPass,
  MalformedVisitorToken,
  SCOPE_ANY,
  type SessionPort,
  type Visitor,
  VisitorAccessDenied,
  type VisitorPass,
  VisitorPassConfigError,
  VisitorPassUnavailable,
  type VisitRequest,
} from "../index.js";
import { createGuard, type VisitorFlow } from "./flow.js";
import { flowOf } from "./visitor-pass.js";

const T0 = new Date("2025-03-01T10:00:00.000Z");
const KEY = "test:visitor";
const UNKNOWN = "0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

/** An in-memory session, recording what the flow did to it. */
class FakeSession implements SessionPort {
  readonly data = new Map<string, unknown>();
  readonly lifetimes: number[] = [];
  regenerations = 0;
  constructor(public id: string | null = "session-1") {}
  get(key: string): unknown {
    return this.data.get(key);
  }
  set(key: string, value: string): void {
    this.data.set(key, value);
  }
  delete(key: string): void {
    this.data.delete(key);
  }
  setCookieLifetime(seconds: number): void {
    this.lifetimes.push(seconds);
  }
  async regenerate(): Promise<void> {
    this.regenerations += 1;
    this.id = `${this.id}-renewed`;
  }
}

let now: Date;
let passes: VisitorPass;
let flow: VisitorFlow;

function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

beforeEach(async () => {
  now = T0;
  passes = createVisitorPass({
    env: {},
    database: "sqlite::memory:",
    now: () => now,
    sessionKey: KEY,
    tokenExpiry: 300,
    sessionExpiry: 0,
  });
  await passes.migrate();
  flow = flowOf(passes, "test()");
});

afterEach(async () => {
  await passes.close();
});

function create(input: Partial<CreateVisitorInput> = {}): Promise<Visitor> {
  return passes.create({ email: "ada@example.org", scope: "REFERENCE", ...input });
}

async function usesOf(visitor: Visitor): Promise<number | undefined> {
  return (await passes.get(visitor.uuid))?.uses;
}

function visit(url: string, changes: Partial<VisitRequest> = {}): VisitRequest {
  return { method: "GET", url, userAgent: "UA/1.0", referer: null, ip: "203.0.113.9", ...changes };
}

describe("the token on the URL", () => {
  it("is read from the configured key; none without one, MalformedVisitorToken for a bad one", async () => {
    const anonymous = { authenticated: false };
    expect(await flow.recognise(visit(`/p?vuid=${UNKNOWN}`), null, anonymous)).toEqual({
      kind: "refused",
    });
    expect(await flow.recognise(visit(`/p?other=${UNKNOWN}`), null, anonymous)).toEqual({
      kind: "none",
    });
    const malformed = await flow.recognise(visit("/p?vuid=bad"), null, anonymous);
    expect(malformed.kind).toBe("malformed");
    expect(malformed.kind === "malformed" && malformed.error).toBeInstanceOf(MalformedVisitorToken);
  });
});

/**
 * What a GET landing with `token` comes to, as the adapters run it: the admitted pass (one use
 * spent unless the session already held it), or `null` when nobody is admitted.
 */
async function admitOnGet(
  token: string,
  session: SessionPort | null = null,
): Promise<Visitor | null> {
  const recognition = await flow.recognise(visit(`/p?vuid=${token}`), session, {
    authenticated: false,
  });
  return recognition.kind === "admitted" ? recognition.visitor : null;
}

describe("a landing admits", () => {
  it("admits a valid pass and spends one use", async () => {
    const visitor = await create();
    const admitted = await admitOnGet(visitor.uuid);
    expect(admitted?.uuid).toBe(visitor.uuid);
    expect(admitted?.uses).toBe(1);
    expect(await usesOf(visitor)).toBe(1);
    await admitOnGet(visitor.uuid);
    expect(await usesOf(visitor)).toBe(2);
  });

  it("returns null for an unknown pass", async () => {
    expect(await admitOnGet(UNKNOWN)).toBeNull();
  });

  it("returns null for an inactive pass, spending nothing", async () => {
    const visitor = await create();
    await passes.deactivate(visitor.uuid);
    expect(await admitOnGet(visitor.uuid)).toBeNull();
    expect(await usesOf(visitor)).toBe(0);
  });

  it("admits up to the last millisecond before expiresAt, and not at it", async () => {
    const visitor = await create();
    now = new Date(at(300).getTime() - 1);
    expect(await admitOnGet(visitor.uuid)).not.toBeNull();
    now = at(300);
    expect(await admitOnGet(visitor.uuid)).toBeNull();
    expect(await usesOf(visitor)).toBe(1);
  });

  it("admits a pass without expiry at any time", async () => {
    const visitor = await create({ expiresAt: null });
    now = new Date("2999-01-01T00:00:00Z");
    expect(await admitOnGet(visitor.uuid)).not.toBeNull();
  });

  it("returns null once maxUses are spent", async () => {
    const visitor = await create({ maxUses: 2 });
    expect(await admitOnGet(visitor.uuid)).not.toBeNull();
    expect(await admitOnGet(visitor.uuid)).not.toBeNull();
    expect(await admitOnGet(visitor.uuid)).toBeNull();
    expect(await usesOf(visitor)).toBe(2);
  });

  it("lets exactly one of many concurrent admits spend a one-use pass", async () => {
    const visitor = await create({ maxUses: 1 });
    const results = await Promise.all(Array.from({ length: 10 }, () => admitOnGet(visitor.uuid)));
    expect(results.filter((result) => result !== null)).toHaveLength(1);
    expect(await usesOf(visitor)).toBe(1);
  });

  it("spends nothing when the session already holds this very pass", async () => {
    const visitor = await create({ maxUses: 1 });
    const session = new FakeSession();
    const first = await admitOnGet(visitor.uuid, session);
    expect(first).not.toBeNull();
    await flow.stash(session, first!, { authenticated: false });
    const again = await admitOnGet(visitor.uuid, session);
    expect(again?.uuid).toBe(visitor.uuid);
    expect(await admitOnGet(visitor.uuid, session)).not.toBeNull();
    expect(await usesOf(visitor)).toBe(1);
  });

  it("spends a use when the session holds a different pass it no longer honours", async () => {
    const visitor = await create();
    const other = await create({ email: "other@example.org" });
    const session = new FakeSession();
    session.set(KEY, other.uuid);
    await passes.deactivate(other.uuid);
    expect(await admitOnGet(visitor.uuid, session)).not.toBeNull();
    expect(await usesOf(visitor)).toBe(1);
  });

  it("refuses a pass the session holds once it is deactivated", async () => {
    const visitor = await create();
    const session = new FakeSession();
    session.set(KEY, visitor.uuid);
    await passes.deactivate(visitor.uuid);
    expect(await admitOnGet(visitor.uuid, session)).toBeNull();
  });

  it("accepts a null session like no session", async () => {
    const visitor = await create();
    expect(await admitOnGet(visitor.uuid, null)).not.toBeNull();
    expect(await usesOf(visitor)).toBe(1);
  });
});

describe("stash", () => {
  it("puts the uuid under sessionKey and makes the cookie a browser-session one for 0", async () => {
    const visitor = await create({ sessionExpiry: 0 });
    const session = new FakeSession();
    await flow.stash(session, visitor, { authenticated: false });
    expect(session.data.get(KEY)).toBe(visitor.uuid);
    expect(session.lifetimes).toEqual([0]);
  });

  it("sets the cookie lifetime to the pass's sessionExpiry", async () => {
    const visitor = await create({ sessionExpiry: 3600 });
    const session = new FakeSession();
    await flow.stash(session, visitor, { authenticated: false });
    expect(session.lifetimes).toEqual([3600]);
  });

  it("leaves the cookie alone when sessionExpiry is null", async () => {
    const visitor = await create({ sessionExpiry: null });
    const session = new FakeSession();
    await flow.stash(session, visitor, { authenticated: false });
    expect(session.data.get(KEY)).toBe(visitor.uuid);
    expect(session.lifetimes).toEqual([]);
  });

  it("leaves the cookie alone for an authenticated user", async () => {
    const visitor = await create({ sessionExpiry: 60 });
    const session = new FakeSession();
    await flow.stash(session, visitor, { authenticated: true });
    expect(session.data.get(KEY)).toBe(visitor.uuid);
    expect(session.lifetimes).toEqual([]);
  });

  it("gives the session a new id first, keeping its data", async () => {
    const visitor = await create();
    const session = new FakeSession("before");
    session.set("cart", "3 items");
    await flow.stash(session, visitor, { authenticated: false });
    expect(session.regenerations).toBe(1);
    expect(session.id).not.toBe("before");
    expect(session.data.get("cart")).toBe("3 items");
    expect(session.data.get(KEY)).toBe(visitor.uuid);
  });

  it("keeps the session id when the session already holds this pass", async () => {
    const visitor = await create();
    const session = new FakeSession();
    session.set(KEY, visitor.uuid);
    await flow.stash(session, visitor, { authenticated: false });
    expect(session.regenerations).toBe(0);
  });

  it("renews the id when the session held a different pass", async () => {
    const visitor = await create();
    const other = await create({ email: "other@example.org" });
    const session = new FakeSession();
    session.set(KEY, other.uuid);
    await flow.stash(session, visitor, { authenticated: true });
    expect(session.regenerations).toBe(1);
    expect(session.data.get(KEY)).toBe(visitor.uuid);
  });

  it("does not touch other session keys", async () => {
    const visitor = await create();
    const session = new FakeSession();
    session.set("cart", "3 items");
    await flow.stash(session, visitor, { authenticated: false });
    expect(session.data.get("cart")).toBe("3 items");
  });
});

describe("restore", () => {
  it("is null, touching nothing, when the session holds no visitor", async () => {
    const session = new FakeSession();
    session.set("cart", "x");
    expect(await flow.restore(session)).toBeNull();
    expect([...session.data.keys()]).toEqual(["cart"]);
  });

  it("returns the stashed visitor while the pass is active, spending nothing", async () => {
    const visitor = await create({ maxUses: 1 });
    const session = new FakeSession();
    await flow.stash(session, (await admitOnGet(visitor.uuid))!, { authenticated: false });
    const restored = await flow.restore(session);
    expect(restored?.uuid).toBe(visitor.uuid);
    expect(session.data.get(KEY)).toBe(visitor.uuid);
    expect(await usesOf(visitor)).toBe(1);
  });

  it("keeps restoring after the link itself expired", async () => {
    const visitor = await create();
    const session = new FakeSession();
    await flow.stash(session, visitor, { authenticated: false });
    now = at(10_000);
    const restored = await flow.restore(session);
    expect(restored?.uuid).toBe(visitor.uuid);
    expect(restored?.hasExpired).toBe(true);
    expect(session.data.get(KEY)).toBe(visitor.uuid);
  });

  it("removes the key and returns null once the pass is deactivated", async () => {
    const visitor = await create();
    const session = new FakeSession();
    await flow.stash(session, visitor, { authenticated: false });
    session.set("cart", "x");
    await passes.deactivate(visitor.uuid);
    expect(await flow.restore(session)).toBeNull();
    expect(session.data.has(KEY)).toBe(false);
    expect(session.data.get("cart")).toBe("x");
  });

  it("removes the key and returns null once the pass is purged", async () => {
    const visitor = await create();
    const session = new FakeSession();
    await flow.stash(session, visitor, { authenticated: false });
    now = at(301);
    expect(await passes.purge()).toBe(1);
    expect(await flow.restore(session)).toBeNull();
    expect(session.data.has(KEY)).toBe(false);
  });

  it("removes the key for a uuid no pass has", async () => {
    const session = new FakeSession();
    session.set(KEY, UNKNOWN);
    expect(await flow.restore(session)).toBeNull();
    expect(session.data.has(KEY)).toBe(false);
  });

  it.each<[string, unknown]>([
    ["a string that is not a uuid", "' OR 1=1 --"],
    ["an empty string", ""],
    ["a number", 42],
    ["an object", { uuid: UNKNOWN }],
    ["an array", [UNKNOWN]],
    ["a boolean", true],
  ])("removes a tampered value: %s", async (_label, value) => {
    await create();
    const session = new FakeSession();
    session.data.set(KEY, value);
    expect(await flow.restore(session)).toBeNull();
    expect(session.data.has(KEY)).toBe(false);
  });

  it("restores a stashed uuid written in upper case", async () => {
    const visitor = await create();
    const session = new FakeSession();
    session.set(KEY, visitor.uuid.toUpperCase());
    expect((await flow.restore(session))?.uuid).toBe(visitor.uuid);
  });

  it("restores again once a deactivated pass is reactivated (if the key survived)", async () => {
    const visitor = await create();
    const session = new FakeSession();
    await flow.stash(session, visitor, { authenticated: false });
    await passes.deactivate(visitor.uuid);
    await passes.reactivate(visitor.uuid);
    expect((await flow.restore(session))?.uuid).toBe(visitor.uuid);
  });
});

describe("clear", () => {
  it("removes the visitor from the session and nothing else", async () => {
    const visitor = await create();
    const session = new FakeSession();
    session.set("cart", "x");
    await flow.stash(session, visitor, { authenticated: false });
    flow.clear(session);
    expect(session.data.has(KEY)).toBe(false);
    expect(session.data.get("cart")).toBe("x");
    expect(await flow.restore(session)).toBeNull();
  });

  it("also drops a Referer carried over from the landing", async () => {
    const visitor = await create();
    const request = visit(`/p?vuid=${visitor.uuid}`, { referer: "https://mail.example/" });
    const session = new FakeSession();
    const recognition = await flow.recognise(request, session, { authenticated: false });
    await flow.settle(request, session, recognition, { authenticated: false });
    flow.clear(session);
    expect([...session.data.keys()]).toEqual([]);
    expect(flow.visitOf(visit("/q"), session).referer).toBeNull();
  });

  it("is harmless on a session without a visitor", () => {
    const session = new FakeSession();
    expect(() => flow.clear(session)).not.toThrow();
  });
});

describe("guard", () => {
  const req = { path: "/reference" };

  it.each<[string, unknown]>([
    ["an empty scope", { scope: "" }],
    ["a whitespace scope", { scope: "  \t" }],
    ["a missing scope", {}],
    ["a non-string scope", { scope: 42 }],
    ["no options at all", undefined],
  ])("throws VisitorPassConfigError at setup for %s", (_label, options) => {
    expect(() => createGuard(options as never)).toThrow(VisitorPassConfigError);
    try {
      createGuard(options as never);
    } catch (error) {
      expect((error as VisitorPassConfigError).option).toBe("scope");
      expect((error as Error).message).toContain("scope");
    }
  });

  it("throws VisitorPassConfigError at setup for a self-service guard of SCOPE_ANY", () => {
    expect(() => createGuard({ scope: SCOPE_ANY, selfService: true })).toThrow(
      VisitorPassConfigError,
    );
  });

  it("throws VisitorPassConfigError at setup for a bypass that is not a function", () => {
    expect(() => createGuard({ scope: "S", bypass: true as never })).toThrow(
      VisitorPassConfigError,
    );
  });

  it("admits a visitor of its scope, and logs the visit", async () => {
    const visitor = await create({ scope: "REFERENCE" });
    const guard = createGuard({ scope: "REFERENCE" });
    expect(guard.scope).toBe("REFERENCE");
    expect(await guard.decide(req, visitor)).toEqual({ allow: true, log: true });
  });

  it("denies a visitor of another scope with VisitorAccessDenied carrying its own scope", async () => {
    const visitor = await create({ scope: "PAYMENT" });
    const decision = await createGuard({ scope: "REFERENCE" }).decide(req, visitor);
    expect(decision.allow).toBe(false);
    if (decision.allow) return;
    expect(decision.error).toBeInstanceOf(VisitorAccessDenied);
    expect(decision.error.scope).toBe("REFERENCE");
    expect(decision.error.status).toBe(403);
    expect(decision.selfService).toBe(false);
  });

  it("compares scopes exactly", async () => {
    const visitor = await create({ scope: "reference" });
    expect((await createGuard({ scope: "REFERENCE" }).decide(req, visitor)).allow).toBe(false);
  });

  it("denies when there is no visitor", async () => {
    const decision = await createGuard({ scope: "REFERENCE" }).decide(req, null);
    expect(decision).toMatchObject({ allow: false, selfService: false });
  });

  it("says when a denied request should go to self-service", async () => {
    const decision = await createGuard({ scope: "REFERENCE", selfService: true }).decide(req, null);
    expect(decision).toMatchObject({ allow: false, selfService: true });
  });

  it("SCOPE_ANY admits a visitor of any scope, but not nobody", async () => {
    const guard = createGuard({ scope: SCOPE_ANY });
    for (const scope of ["REFERENCE", "PAYMENT", "x"]) {
      const visitor = await create({ scope });
      expect(await guard.decide(req, visitor)).toEqual({ allow: true, log: true });
    }
    const denied = await guard.decide(req, null);
    expect(denied.allow).toBe(false);
    if (!denied.allow) expect(denied.error.scope).toBe("*");
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
    expect(await sync.decide(req, null)).toEqual({ allow: true, log: false });
    expect(await async.decide(req, null)).toEqual({ allow: true, log: false });
    const other = await create({ scope: "PAYMENT" });
    expect((await async.decide(req, other)).allow).toBe(true);
    expect(seen).toEqual([req]);
  });

  it("bypass returning false (sync or async) leaves the decision to the scope", async () => {
    for (const bypass of [() => false, async () => false]) {
      const guard = createGuard({ scope: "REFERENCE", bypass });
      expect((await guard.decide(req, null)).allow).toBe(false);
      const visitor = await create({ scope: "REFERENCE" });
      expect(await guard.decide(req, visitor)).toEqual({ allow: true, log: true });
    }
  });

  it("a bypass that throws makes decide reject with its error", async () => {
    const guard = createGuard({
      scope: "REFERENCE",
      bypass: () => {
        throw new Error("auth backend down");
      },
    });
    await expect(guard.decide(req, null)).rejects.toThrow("auth backend down");
  });

  it("logVisit: false admits without a visit log", async () => {
    const visitor = await create({ scope: "REFERENCE" });
    const guard = createGuard({ scope: "REFERENCE", logVisit: false });
    expect(await guard.decide(req, visitor)).toEqual({ allow: true, log: false });
  });
});

describe("recordVisit and passes.logs", () => {
  it("records the visit: method, path, query without the token, session, status, time", async () => {
    const visitor = await create();
    now = at(42);
    flow.recordVisit(
      visitor,
      visit(`/reference/form?a=1&vuid=${visitor.uuid}&b=x%20y&flag`, {
        method: "post",
        referer: "https://example.com/mail",
      }),
      "sess-abc",
      201,
    );
    const [log, ...rest] = await passes.logs(visitor.uuid);
    expect(rest).toEqual([]);
    expect(log).toEqual({
      id: expect.any(Number),
      visitorId: visitor.id,
      sessionKey: "sess-abc",
      httpMethod: "POST",
      requestUri: "/reference/form",
      queryString: "a=1&b=x%20y&flag",
      httpUserAgent: "UA/1.0",
      httpReferer: "https://example.com/mail",
      remoteAddr: "203.0.113.9",
      statusCode: 201,
      timestamp: at(42),
    });
  });

  it("removes every copy of the token, and only the token", async () => {
    const visitor = await create();
    flow.recordVisit(
      visitor,
      visit(`/p?vuid=${visitor.uuid}&vuid2=keep&%76uid=${visitor.uuid}&xvuid=keep`),
      null,
      200,
    );
    const [log] = await passes.logs(visitor.uuid);
    expect(log?.queryString).toBe("vuid2=keep&xvuid=keep");
    expect(log?.queryString).not.toContain(visitor.uuid);
  });

  it("stores a path without a query as that path and an empty query", async () => {
    const visitor = await create();
    flow.recordVisit(visitor, visit("/plain/path"), null, 200);
    flow.recordVisit(visitor, visit(`/only-token?vuid=${visitor.uuid}#frag`), null, 200);
    const logs = await passes.logs(visitor.uuid);
    expect(logs.map((log) => [log.requestUri, log.queryString])).toEqual([
      ["/only-token", ""],
      ["/plain/path", ""],
    ]);
  });

  it("records the status code it is given, and null session and headers as null", async () => {
    const visitor = await create();
    flow.recordVisit(visitor, visit("/p", { userAgent: null, referer: null, ip: null }), null, 404);
    const [log] = await passes.logs(visitor.uuid);
    expect(log).toMatchObject({
      statusCode: 404,
      sessionKey: null,
      httpUserAgent: null,
      httpReferer: null,
      remoteAddr: null,
    });
  });

  it("clips long values so a hostile request cannot bloat the table", async () => {
    const visitor = await create();
    flow.recordVisit(
      visitor,
      {
        method: "X".repeat(100),
        url: `/${"p".repeat(5000)}?${"q".repeat(5000)}&vuid=${visitor.uuid}`,
        userAgent: "u".repeat(5000),
        referer: "r".repeat(5000),
        ip: "1".repeat(500),
      },
      "s".repeat(1000),
      200,
    );
    const [log] = await passes.logs(visitor.uuid);
    expect(log?.httpMethod).toBe("X".repeat(16));
    expect(log?.requestUri).toBe(`/${"p".repeat(1999)}`);
    expect(log?.queryString).toBe("q".repeat(2000));
    expect(log?.httpUserAgent).toHaveLength(1000);
    expect(log?.httpReferer).toHaveLength(2000);
    expect(log?.remoteAddr).toHaveLength(64);
    expect(log?.sessionKey).toHaveLength(255);
  });

  it("uses the configured querystringKey when removing the token", async () => {
    const custom = createVisitorPass({
      env: {},
      database: "sqlite::memory:",
      querystringKey: "t",
      now: () => now,
    });
    await custom.migrate();
    try {
      const visitor = await custom.create({ email: "a@example.org", scope: "S" });
      flowOf(custom, "test()").recordVisit(
        visitor,
        visit(`/p?t=${visitor.uuid}&vuid=x`),
        null,
        200,
      );
      const [log] = await custom.logs(visitor.uuid);
      expect(log?.queryString).toBe("vuid=x");
    } finally {
      await custom.close();
    }
  });

  it("never throws, and reports a log it could not write on the console", async () => {
    const visitor = await create();
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      now = at(301);
      await passes.purge();
      expect(() => flow.recordVisit(visitor, visit("/gone"), null, 200)).not.toThrow();
      await passes.flush();
      expect(error).toHaveBeenCalledTimes(1);
      expect(String(error.mock.calls[0]?.[0])).toContain("visit logs whose pass no longer exists");
    } finally {
      error.mockRestore();
    }
  });
});

describe("recognise", () => {
  const anonymous = { authenticated: false };

  it("is 'none' without a token", async () => {
    expect(await flow.recognise(visit("/p?a=1"), new FakeSession(), anonymous)).toEqual({
      kind: "none",
    });
  });

  it.each(["HEAD", "OPTIONS", "TRACE", "head"])(
    "never admits on %s, spending nothing",
    async (method) => {
      const visitor = await create();
      const recognition = await flow.recognise(
        visit(`/p?vuid=${visitor.uuid}`, { method }),
        new FakeSession(),
        anonymous,
      );
      expect(recognition).toEqual({ kind: "ignored" });
      expect(await usesOf(visitor)).toBe(0);
    },
  );

  it("is 'malformed' with a MalformedVisitorToken for a bad token", async () => {
    const recognition = await flow.recognise(visit("/p?vuid=bad"), null, anonymous);
    expect(recognition.kind).toBe("malformed");
    if (recognition.kind === "malformed") {
      expect(recognition.error).toBeInstanceOf(MalformedVisitorToken);
      expect(recognition.error.status).toBe(400);
    }
  });

  it("admits a valid token, spending a use", async () => {
    const visitor = await create();
    const recognition = await flow.recognise(
      visit(`/p?vuid=${visitor.uuid.toUpperCase()}`),
      new FakeSession(),
      anonymous,
    );
    expect(recognition).toMatchObject({ kind: "admitted", spent: true });
    if (recognition.kind === "admitted") expect(recognition.visitor.uuid).toBe(visitor.uuid);
    expect(await usesOf(visitor)).toBe(1);
  });

  it.each(["POST", "PUT", "PATCH", "DELETE", "post"])(
    "a token on a %s that is not the confirmation's admits nobody, spending nothing",
    async (method) => {
      const visitor = await create();
      const recognition = await flow.recognise(
        visit(`/p?vuid=${visitor.uuid}`, { method }),
        new FakeSession(),
        anonymous,
      );
      expect(recognition).toEqual({ kind: "ignored" });
      expect(await usesOf(visitor)).toBe(0);
    },
  );

  it("the confirming POST admits from this site, and from another site admits nobody", async () => {
    const visitor = await create();
    const url = `/p?vuid=${visitor.uuid}&vuid-confirm=1`;
    const post = (changes: Partial<VisitRequest>) =>
      flow.recognise(
        visit(url, { method: "POST", host: "app.example", ...changes }),
        null,
        anonymous,
      );
    for (const crossSite of [
      { secFetchSite: "cross-site" },
      { secFetchSite: "same-site" },
      { origin: "https://evil.example" },
      { origin: "null" },
    ]) {
      expect(await post(crossSite)).toEqual({ kind: "ignored" });
    }
    // A PUT marked as a confirmation is still not one.
    expect(
      await flow.recognise(
        visit(url, { method: "PUT", secFetchSite: "same-origin" }),
        null,
        anonymous,
      ),
    ).toEqual({ kind: "ignored" });
    expect(await usesOf(visitor)).toBe(0);
    expect(await post({ secFetchSite: "same-origin" })).toMatchObject({
      kind: "admitted",
      spent: true,
      confirmed: true,
    });
    expect(await usesOf(visitor)).toBe(1);
  });

  it("is 'refused' for an unknown, inactive, expired or used-up pass", async () => {
    const inactive = await create();
    await passes.deactivate(inactive.uuid);
    const usedUp = await create({ maxUses: 1 });
    await admitOnGet(usedUp.uuid);
    const expired = await create({ expiresAt: at(-1) });
    for (const uuid of [UNKNOWN, inactive.uuid, usedUp.uuid, expired.uuid]) {
      expect(await flow.recognise(visit(`/p?vuid=${uuid}`), null, anonymous)).toEqual({
        kind: "refused",
      });
    }
  });

  it("spends nothing when the session already holds this pass", async () => {
    const visitor = await create();
    const session = new FakeSession();
    session.set(KEY, visitor.uuid);
    const recognition = await flow.recognise(visit(`/p?vuid=${visitor.uuid}`), session, anonymous);
    expect(recognition).toMatchObject({ kind: "admitted", spent: false });
    expect(await usesOf(visitor)).toBe(0);
  });

  it("keeps the visitor a session holds against another pass's link (default onConflict)", async () => {
    const held = await create();
    const planted = await create({ email: "planted@example.org" });
    const session = new FakeSession();
    session.set(KEY, held.uuid);
    expect(await flow.recognise(visit(`/p?vuid=${planted.uuid}`), session, anonymous)).toEqual({
      kind: "kept",
    });
    expect(await usesOf(planted)).toBe(0);
  });

  it("keeps a signed-in user's session free of visitor links (default onConflict)", async () => {
    const visitor = await create();
    const recognition = await flow.recognise(visit(`/p?vuid=${visitor.uuid}`), new FakeSession(), {
      authenticated: true,
    });
    expect(recognition).toEqual({ kind: "kept" });
    expect(await usesOf(visitor)).toBe(0);
  });

  it("admits a new pass when the held one is no longer active", async () => {
    const held = await create();
    await passes.deactivate(held.uuid);
    const fresh = await create({ email: "fresh@example.org" });
    const session = new FakeSession();
    session.set(KEY, held.uuid);
    const recognition = await flow.recognise(visit(`/p?vuid=${fresh.uuid}`), session, anonymous);
    expect(recognition).toMatchObject({ kind: "admitted", spent: true });
  });

  it("with onConflict 'replace', admits the new pass over the held one", async () => {
    const replacing = createVisitorPass({
      env: {},
      database: "sqlite::memory:",
      sessionKey: KEY,
      onConflict: "replace",
    });
    await replacing.migrate();
    try {
      const replaceFlow = flowOf(replacing, "test()");
      const held = await replacing.create({ email: "a@example.org", scope: "S" });
      const fresh = await replacing.create({ email: "b@example.org", scope: "S" });
      const session = new FakeSession();
      session.set(KEY, held.uuid);
      const recognition = await replaceFlow.recognise(
        visit(`/p?vuid=${fresh.uuid}`),
        session,
        anonymous,
      );
      expect(recognition).toMatchObject({ kind: "admitted", spent: true });
      expect(
        await replaceFlow.recognise(visit(`/p?vuid=${held.uuid}`), null, { authenticated: true }),
      ).toMatchObject({ kind: "admitted" });
    } finally {
      await replacing.close();
    }
  });

  it("is 'unavailable' (503), not a crash, when the store fails", async () => {
    const visitor = await create();
    await passes.close();
    const recognition = await flow.recognise(visit(`/p?vuid=${visitor.uuid}`), null, anonymous);
    expect(recognition.kind).toBe("unavailable");
    if (recognition.kind === "unavailable") {
      expect(recognition.error).toBeInstanceOf(VisitorPassUnavailable);
      expect(recognition.error.status).toBe(503);
      expect(recognition.error.cause).toBeInstanceOf(Error);
    }
  });
});

describe("settle", () => {
  const anonymous = { authenticated: false };

  async function landing(url: string, changes: Partial<VisitRequest> = {}) {
    const request = visit(url, changes);
    const session = new FakeSession();
    const recognition = await flow.recognise(request, session, anonymous);
    const settlement = await flow.settle(request, session, recognition, anonymous);
    return { session, settlement };
  }

  it("stashes a newly admitted visitor and sends a GET on to the URL without its token", async () => {
    const visitor = await create();
    const { session, settlement } = await landing(`/reference?a=1&vuid=${visitor.uuid}&b=2`);
    expect(settlement.visitor?.uuid).toBe(visitor.uuid);
    expect(settlement.redirectTo).toBe("/reference?a=1&b=2");
    expect(settlement.unavailable).toBeNull();
    expect(session.data.get(KEY)).toBe(visitor.uuid);
    expect(session.regenerations).toBe(1);
    expect(session.lifetimes).toEqual([0]);
  });

  it.each(["//evil.example/", "/\\evil.example/", "///evil.example/", "/\\/evil.example/"])(
    "the landing redirect for %s stays on this site",
    async (path) => {
      const visitor = await create();
      const { settlement } = await landing(`${path}?vuid=${visitor.uuid}`);
      const { redirectTo } = settlement;
      expect(redirectTo).not.toBeNull();
      // A Location starting with two slashes (or a slash and a backslash) leaves the site.
      expect(redirectTo).toMatch(/^\/(?![/\\])/);
    },
  );

  it("carries the landing's Referer over to the first logged visit, once", async () => {
    const visitor = await create();
    const { session } = await landing(`/reference?vuid=${visitor.uuid}`, {
      referer: "https://mail.example/inbox",
    });
    const first = flow.visitOf(visit("/reference"), session);
    expect(first.referer).toBe("https://mail.example/inbox");
    expect(flow.visitOf(visit("/reference"), session).referer).toBeNull();
  });

  it("a POST carrying a token goes on as without it: no admission, the session untouched", async () => {
    const visitor = await create();
    const { session, settlement } = await landing(`/reference?vuid=${visitor.uuid}`, {
      method: "POST",
    });
    expect(settlement).toEqual({ visitor: null, redirectTo: null, unavailable: null });
    expect(session.data.size).toBe(0);
    expect(session.regenerations).toBe(0);
    expect(session.lifetimes).toEqual([]);

    const held = await create({ email: "held@example.org" });
    const holding = new FakeSession();
    await flow.stash(holding, held, anonymous);
    const before = new Map(holding.data);
    const request = visit(`/reference?vuid=${visitor.uuid}`, { method: "POST" });
    const recognition = await flow.recognise(request, holding, anonymous);
    const settled = await flow.settle(request, holding, recognition, anonymous);
    expect(settled.visitor?.uuid).toBe(held.uuid);
    expect(holding.data).toEqual(before);
    expect(holding.regenerations).toBe(1);
    expect(await usesOf(visitor)).toBe(0);
  });

  it("does not redirect with landingRedirect: false", async () => {
    const plain = createVisitorPass({
      env: {},
      database: "sqlite::memory:",
      landingRedirect: false,
    });
    await plain.migrate();
    try {
      const plainFlow = flowOf(plain, "test()");
      const visitor = await plain.create({ email: "a@example.org", scope: "S" });
      const request = visit(`/reference?vuid=${visitor.uuid}`);
      const session = new FakeSession();
      const recognition = await plainFlow.recognise(request, session, anonymous);
      const settlement = await plainFlow.settle(request, session, recognition, anonymous);
      expect(settlement.visitor?.uuid).toBe(visitor.uuid);
      expect(settlement.redirectTo).toBeNull();
    } finally {
      await plain.close();
    }
  });

  it("restores the held visitor when there is no token, a refused one, or a kept one", async () => {
    const held = await create();
    const other = await create({ email: "other@example.org" });
    for (const url of ["/p", `/p?vuid=${UNKNOWN}`, `/p?vuid=${other.uuid}`]) {
      const request = visit(url);
      const session = new FakeSession();
      session.set(KEY, held.uuid);
      const recognition = await flow.recognise(request, session, anonymous);
      const settlement = await flow.settle(request, session, recognition, anonymous);
      expect(settlement).toMatchObject({ redirectTo: null, unavailable: null });
      expect(settlement.visitor?.uuid).toBe(held.uuid);
      expect(session.regenerations).toBe(0);
    }
  });

  it("settles as unavailable, leaving the session untouched, when the store fails", async () => {
    const held = await create();
    const session = new FakeSession();
    session.set(KEY, held.uuid);
    await passes.close();
    const request = visit("/p");
    const recognition = await flow.recognise(request, session, anonymous);
    const settlement = await flow.settle(request, session, recognition, anonymous);
    expect(settlement.visitor).toBeNull();
    expect(settlement.unavailable).toBeInstanceOf(VisitorPassUnavailable);
    expect(session.data.get(KEY)).toBe(held.uuid);
    await expect(flow.restore(session)).rejects.toBeInstanceOf(VisitorPassUnavailable);
    expect(session.data.get(KEY)).toBe(held.uuid);
  });
});

describe("anonymizeIp", () => {
  it.each<[false | "truncate" | "drop", string | null, string | null]>([
    [false, "203.0.113.9", "203.0.113.9"],
    ["truncate", "203.0.113.9", "203.0.113.0"],
    ["truncate", "::ffff:203.0.113.9", "203.0.113.0"],
    ["truncate", "2001:db8:1:2:3:4:5:6", "2001:db8:1::"],
    ["drop", "203.0.113.9", null],
    ["truncate", null, null],
  ])("%s keeps %s as %s in the visit log", async (anonymizeIp, ip, stored) => {
    const logged = createVisitorPass({ env: {}, database: "sqlite::memory:", anonymizeIp });
    await logged.migrate();
    try {
      const visitor = await logged.create({ email: "a@example.org", scope: "S" });
      flowOf(logged, "test()").recordVisit(visitor, visit("/p", { ip }), null, 200);
      const [log] = await logged.logs(visitor.uuid);
      expect(log?.remoteAddr).toBe(stored);
    } finally {
      await logged.close();
    }
  });
});

describe("landing again with the pass the session holds", () => {
  const anonymous = { authenticated: false };

  async function land(session: FakeSession, uuid: string) {
    const request = visit(`/reference?vuid=${uuid}`);
    const recognition = await flow.recognise(request, session, anonymous);
    return { recognition, settlement: await flow.settle(request, session, recognition, anonymous) };
  }

  it.each<[string, Partial<CreateVisitorInput>, number]>([
    ["a link still valid", {}, 10],
    ["an expired link", {}, 400],
    ["a used-up link", { maxUses: 1 }, 10],
  ])(
    "with %s renews nothing: no new lifetime, id or admission time",
    async (_label, input, later) => {
      const visitor = await create({ sessionExpiry: 3600, ...input });
      const session = new FakeSession();
      await land(session, visitor.uuid);
      const stashed = new Map(session.data);
      expect(session.lifetimes).toEqual([3600]);
      now = at(later);
      const { recognition, settlement } = await land(session, visitor.uuid);
      expect(recognition).toMatchObject({ kind: "admitted", spent: false });
      expect(settlement.visitor?.uuid).toBe(visitor.uuid);
      expect(settlement.redirectTo).toBe("/reference");
      expect(session.lifetimes).toEqual([3600]);
      expect(session.regenerations).toBe(1);
      expect(session.data).toEqual(stashed);
      expect(await usesOf(visitor)).toBe(1);
      // The lifetime still runs from the first admission.
      now = at(3600);
      expect(await flow.restore(session)).toBeNull();
    },
  );

  it("once the held admission lapsed, a link that can still admit admits afresh", async () => {
    const visitor = await create({ sessionExpiry: 60, expiresAt: null });
    const session = new FakeSession();
    await land(session, visitor.uuid);
    now = at(61);
    const { recognition } = await land(session, visitor.uuid);
    expect(recognition).toMatchObject({ kind: "admitted", spent: true });
    expect(session.lifetimes).toEqual([60, 60]);
    expect(await usesOf(visitor)).toBe(2);
    now = at(120);
    expect((await flow.restore(session))?.uuid).toBe(visitor.uuid);
  });

  it("once the held admission lapsed, an expired link admits nobody", async () => {
    const visitor = await create({ sessionExpiry: 600 });
    const session = new FakeSession();
    await land(session, visitor.uuid);
    now = at(601);
    const { recognition, settlement } = await land(session, visitor.uuid);
    expect(recognition).toEqual({ kind: "refused" });
    expect(settlement.visitor).toBeNull();
    expect(session.data.has(KEY)).toBe(false);
  });
});

describe("the pass's session lifetime is absolute", () => {
  const anonymous = { authenticated: false };

  it("restores until sessionExpiry after the admission and forgets the visitor at it", async () => {
    const visitor = await create({ sessionExpiry: 3600 });
    const session = new FakeSession();
    session.set("cart", "x");
    await flow.stash(session, (await admitOnGet(visitor.uuid))!, anonymous);
    now = at(3599);
    expect((await flow.restore(session))?.uuid).toBe(visitor.uuid);
    now = at(3600);
    expect(await flow.restore(session)).toBeNull();
    expect([...session.data.keys()]).toEqual(["cart"]);
  });

  it("applies to a signed-in user's session too, whose cookie it leaves alone", async () => {
    const visitor = await create({ sessionExpiry: 60 });
    const session = new FakeSession();
    await flow.stash(session, visitor, { authenticated: true });
    expect(session.lifetimes).toEqual([]);
    now = at(60);
    expect(await flow.restore(session)).toBeNull();
  });

  it("sessionExpiry 0 and null set no lifetime of their own", async () => {
    for (const sessionExpiry of [0, null]) {
      const visitor = await create({ sessionExpiry, expiresAt: null });
      const session = new FakeSession();
      await flow.stash(session, visitor, anonymous);
      now = at(10 * 365 * 86_400);
      expect((await flow.restore(session))?.uuid).toBe(visitor.uuid);
      now = T0;
    }
  });

  it.each<[string, unknown]>([
    ["missing", undefined],
    ["not a number", "soon"],
    ["not a string", 12],
  ])("a session whose admission time is %s is not honoured", async (_label, value) => {
    const visitor = await create({ sessionExpiry: 3600 });
    const session = new FakeSession();
    await flow.stash(session, visitor, anonymous);
    if (value === undefined) session.data.delete(`${KEY}:admitted`);
    else session.data.set(`${KEY}:admitted`, value);
    expect(await flow.restore(session)).toBeNull();
    expect(session.data.has(KEY)).toBe(false);
  });

  it("counts from the admission on the cached path as on the queried one", async () => {
    const visitor = await create({ sessionExpiry: 30 });
    const session = new FakeSession();
    await flow.stash(session, (await admitOnGet(visitor.uuid))!, anonymous);
    // Read once: the pass is now cached.
    expect((await flow.restore(session))?.uuid).toBe(visitor.uuid);
    now = at(30);
    const restored = flow.restore(session);
    expect(restored).toBeNull();
  });
});

describe('tokenStorage: "hash" in the session', () => {
  const anonymous = { authenticated: false };
  let hashed: VisitorPass;
  let hashFlow: VisitorFlow;

  beforeEach(async () => {
    hashed = createVisitorPass({
      env: {},
      database: "sqlite::memory:",
      now: () => now,
      sessionKey: KEY,
      sessionExpiry: 3600,
      tokenStorage: "hash",
    });
    await hashed.migrate();
    hashFlow = flowOf(hashed, "test()");
  });
  afterEach(async () => {
    await hashed.close();
  });

  const digestOf = (token: string) => createHash("sha256").update(token).digest("hex");

  it("keeps the digest, never the token, and restores the visitor by it", async () => {
    const visitor = await hashed.create({ email: "a@example.org", scope: "S" });
    const digest = digestOf(visitor.uuid);
    const session = new FakeSession();
    const request = visit(`/p?vuid=${visitor.uuid}`, { referer: "https://mail.example/" });
    const recognition = await hashFlow.recognise(request, session, anonymous);
    await hashFlow.settle(request, session, recognition, anonymous);
    expect(session.data.get(KEY)).toBe(digest);
    expect(JSON.stringify([...session.data])).not.toContain(visitor.uuid);
    for (let i = 0; i < 2; i++) {
      const restored = await hashFlow.restore(session);
      expect(restored).toMatchObject({ uuid: digest, email: "a@example.org" });
    }
    // From the pass cache, as with plain tokens: answered at once, no query.
    expect(hashFlow.restore(session)).toMatchObject({ uuid: digest });
    // Landing again finds the session already holds it: nothing spent.
    const again = await hashFlow.recognise(request, session, anonymous);
    expect(again).toMatchObject({ kind: "admitted", spent: false });
    expect((await hashed.get(visitor.uuid))?.uses).toBe(1);
    await hashed.deactivate(digest);
    expect(await hashFlow.restore(session)).toBeNull();
  });

  it("a session stashed with the token is given the digest instead", async () => {
    const visitor = await hashed.create({ email: "a@example.org", scope: "S" });
    const session = new FakeSession();
    session.set(KEY, visitor.uuid);
    session.set(`${KEY}:admitted`, String(now.getTime()));
    expect(await hashFlow.restore(session)).not.toBeNull();
    expect(session.data.get(KEY)).toBe(digestOf(visitor.uuid));
  });

  it("still finds a pass by token with its token, after the session's lookups by digest", async () => {
    const visitor = await hashed.create({ email: "a@example.org", scope: "S" });
    const session = new FakeSession();
    await hashFlow.stash(session, visitor, anonymous);
    await hashFlow.restore(session);
    expect((await hashed.get(visitor.uuid))?.uuid).toBe(visitor.uuid);
  });
});

describe("the confirmation page", () => {
  it("posts to a path on this site, whatever the request path", async () => {
    const confirming = createVisitorPass({ env: {}, database: "sqlite::memory:", confirm: true });
    await confirming.migrate();
    try {
      const confirmFlow = flowOf(confirming, "test()");
      const visitor = await confirming.create({ email: "a@example.org", scope: "S" });
      for (const [path, expected] of [
        ["//evil.example/p", "/evil.example/p"],
        ["/\\evil.example/p", "/evil.example/p"],
        ["/\t/evil.example/p", "/evil.example/p"],
        ["/p", "/p"],
      ]) {
        const recognition = await confirmFlow.recognise(
          visit(`${path}?vuid=${visitor.uuid}`),
          null,
          { authenticated: false },
        );
        expect(recognition.kind).toBe("confirm");
        const body = recognition.kind === "confirm" ? String(recognition.page.body) : "";
        const action = /action="([^"]*)"/.exec(body)?.[1]?.replace(/&amp;/g, "&");
        expect(action).toBe(`${expected}?vuid=${visitor.uuid}&vuid-confirm=1`);
      }
    } finally {
      await confirming.close();
    }
  });
});

describe("guarded responses and caches", () => {
  const context = { visit: visit("/p"), session: null, unavailable: null };

  it('an admitted visit gets "Cache-Control: private, no-store" by default', async () => {
    const visitor = await create({ scope: "REFERENCE" });
    const outcome = await flow.guardRequest(
      createGuard({ scope: "REFERENCE" }),
      {},
      visitor,
      context,
    );
    expect(outcome).toMatchObject({
      kind: "allow",
      headers: { "Cache-Control": "private, no-store" },
    });
    const bypassed = await flow.guardRequest(
      createGuard({ scope: "REFERENCE", bypass: () => true }),
      {},
      null,
      context,
    );
    expect(bypassed).toMatchObject({ headers: { "Cache-Control": "private, no-store" } });
  });

  it("a guard's cacheControl, or the service's guardCacheControl, changes or drops it", async () => {
    const visitor = await create({ scope: "REFERENCE" });
    const own = createGuard({ scope: "REFERENCE", cacheControl: "private, max-age=60" });
    expect(await flow.guardRequest(own, {}, visitor, context)).toMatchObject({
      headers: { "Cache-Control": "private, max-age=60" },
    });
    const none = createGuard({ scope: "REFERENCE", cacheControl: false });
    expect(await flow.guardRequest(none, {}, visitor, context)).toMatchObject({ headers: null });

    const relaxed = createVisitorPass({
      env: {},
      database: "sqlite::memory:",
      guardCacheControl: false,
    });
    try {
      const relaxedFlow = flowOf(relaxed, "test()");
      const guard = createGuard({ scope: "REFERENCE" });
      expect(await relaxedFlow.guardRequest(guard, {}, visitor, context)).toMatchObject({
        headers: null,
      });
      expect(await relaxedFlow.guardRequest(own, {}, visitor, context)).toMatchObject({
        headers: { "Cache-Control": "private, max-age=60" },
      });
    } finally {
      await relaxed.close();
    }
  });

  it.each<[string, unknown]>([
    ["an empty string", ""],
    ["a line break", "no-store\r\nSet-Cookie: a=b"],
    ["true", true],
    ["a number", 0],
  ])("refuses %s as a Cache-Control value at setup", (_label, value) => {
    expect(() => createGuard({ scope: "S", cacheControl: value as never })).toThrow(
      VisitorPassConfigError,
    );
    expect(() =>
      createVisitorPass({
        env: {},
        database: "sqlite::memory:",
        guardCacheControl: value as never,
      }),
    ).toThrow(VisitorPassConfigError);
  });
});
