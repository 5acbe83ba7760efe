import { describe, expect, it, vi } from "vitest";
import {
  ANONYMOUS,
  at,
  FakeSession,
  flowFixture,
  KEY,
  MISSING_SESSION,
  SIGNED_IN,
  UNKNOWN,
  visit,
  withFlow,
} from "../../test/support/flow.js";
import {
  type CreateVisitorInput,
  createVisitorPass,
  VisitorAccessDenied,
  VisitorPassError,
  VisitorPassThrottled,
  VisitorPassUnavailable,
  VisitorPassUriTooLong,
  type VisitRequest,
} from "../index.js";
import { createGuard, type GuardOptions } from "./guard.js";
import type { GuardContext } from "./request-flow.js";
import { flowOf } from "./visitor-pass.js";

const fx = flowFixture();
const SILENT = { warn() {}, error() {} };
const LANDING_HEADERS = { "Referrer-Policy": "no-referrer", "Cache-Control": "no-store" };
const TEXT_HEADERS = { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" };

/** A landing on `url` with a fresh session, as the middleware runs it. */
async function landing(url: string, changes: Partial<VisitRequest> = {}) {
  const session = new FakeSession();
  const result = await fx.enter(visit(url, changes), session);
  return { session, result };
}

/** The two halves of the middleware run apart, as an adapter whose authentication runs between. */
async function recogniseThenSettle(
  request: VisitRequest,
  session: FakeSession,
  context = ANONYMOUS,
) {
  const recognised = await fx.flow.recognise(request, session, context);
  if (recognised.kind === "respond") return { recognised, settled: recognised };
  const settled = await fx.flow.settle(
    request,
    session,
    context,
    recognised.recognition,
    MISSING_SESSION,
  );
  return { recognised, settled };
}

function context(changes: Partial<GuardContext> = {}): GuardContext {
  return { visit: visit("/reference"), session: null, unavailable: null, ...changes };
}

describe("enter: a landing", () => {
  it("stashes a newly admitted visitor and sends a GET on to the URL without its token (302)", async () => {
    const visitor = await fx.create();
    const { session, result } = await landing(`/reference?a=1&vuid=${visitor.uuid}&b=2`);
    expect(result).toEqual({
      kind: "respond",
      status: 302,
      headers: { ...LANDING_HEADERS, Location: "/reference?a=1&b=2" },
      body: null,
      location: "/reference?a=1&b=2",
      error: null,
      visitor: expect.objectContaining({ uuid: visitor.uuid }),
    });
    expect(session.data.get(KEY)).toBe(visitor.uuid);
    expect(session.regenerations).toBe(1);
    expect(session.lifetimes).toEqual([0]);
  });

  it("answers the same when the two halves run apart", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    const { recognised, settled } = await recogniseThenSettle(
      visit(`/reference?vuid=${visitor.uuid}`),
      session,
    );
    expect(recognised).toMatchObject({ kind: "continue", hideToken: true });
    expect(settled).toMatchObject({
      kind: "respond",
      status: 302,
      location: "/reference",
      headers: LANDING_HEADERS,
    });
    expect(session.data.get(KEY)).toBe(visitor.uuid);
  });

  it.each(["//evil.example/", "/\\evil.example/", "///evil.example/", "/\\/evil.example/"])(
    "the landing redirect for %s stays on this site",
    async (path) => {
      const visitor = await fx.create();
      const { result } = await landing(`${path}?vuid=${visitor.uuid}`);
      expect(result).toMatchObject({ kind: "respond", status: 302 });
      const location = result.kind === "respond" ? result.location : null;
      // A Location starting with two slashes (or a slash and a backslash) leaves the site.
      expect(location).toMatch(/^\/(?![/\\])/);
      expect(result.kind === "respond" && result.headers.Location).toBe(location);
    },
  );

  it("carries the landing's Referer over to the first logged visit, once", async () => {
    const visitor = await fx.create();
    const { session } = await landing(`/reference?vuid=${visitor.uuid}`, {
      referer: "https://mail.example/inbox",
    });
    const guard = createGuard({ scope: "REFERENCE" });
    const later = context({ visit: visit("/reference"), session });
    expect(await fx.flow.guard(guard, {}, visitor, later)).toMatchObject({
      log: { visit: { url: "/reference", referer: "https://mail.example/inbox" } },
    });
    expect(await fx.flow.guard(guard, {}, visitor, later)).toMatchObject({
      log: { visit: { referer: null } },
    });
  });

  it("after the confirmation page's POST, stashes the visitor and sends it on with 303", async () => {
    await withFlow({ sessionKey: KEY, confirm: true }, async (flow, passes) => {
      const visitor = await passes.create({ email: "a@example.org", scope: "S" });
      const session = new FakeSession();
      const url = `/reference?a=1&vuid=${visitor.uuid}`;
      const page = await flow.enter(visit(url), session, ANONYMOUS, MISSING_SESSION);
      expect(page).toMatchObject({ kind: "respond", status: 200 });
      const confirming = visit(`${url}&vuid-confirm=1`, {
        method: "POST",
        secFetchSite: "same-origin",
      });
      expect(await flow.enter(confirming, session, ANONYMOUS, MISSING_SESSION)).toEqual({
        kind: "respond",
        status: 303,
        headers: { ...LANDING_HEADERS, Location: "/reference?a=1" },
        body: null,
        location: "/reference?a=1",
        error: null,
        visitor: expect.objectContaining({ uuid: visitor.uuid }),
      });
      expect(session.data.get(KEY)).toBe(visitor.uuid);
      expect((await passes.get(visitor.uuid))?.uses).toBe(1);
    });
  });

  it("a POST carrying a token goes on as without it: no admission, the session untouched", async () => {
    const visitor = await fx.create();
    const { session, result } = await landing(`/reference?vuid=${visitor.uuid}`, {
      method: "POST",
    });
    expect(result).toMatchObject({
      kind: "continue",
      visitor: null,
      hideToken: true,
      unavailable: null,
      log: null,
    });
    expect(session.data.size).toBe(0);
    expect(session.regenerations).toBe(0);
    expect(session.lifetimes).toEqual([]);

    const held = await fx.create({ email: "held@example.org" });
    const holding = new FakeSession();
    await fx.flow.stash.stash(holding, held, false);
    const before = new Map(holding.data);
    const settled = await fx.enter(
      visit(`/reference?vuid=${visitor.uuid}`, { method: "POST" }),
      holding,
    );
    expect(settled).toMatchObject({
      kind: "continue",
      visitor: { uuid: held.uuid },
      hideToken: true,
    });
    expect(holding.data).toEqual(before);
    expect(holding.regenerations).toBe(1);
    expect(await fx.usesOf(visitor)).toBe(0);
  });

  it("does not redirect with landingRedirect: false, and the app sees the URL without its token", async () => {
    await withFlow({ landingRedirect: false }, async (flow, passes) => {
      const visitor = await passes.create({ email: "a@example.org", scope: "S" });
      const url = `/reference?vuid=${visitor.uuid}`;
      const session = new FakeSession();
      const result = await flow.enter(visit(url), session, ANONYMOUS, MISSING_SESSION);
      expect(result).toMatchObject({
        kind: "continue",
        visitor: { uuid: visitor.uuid },
        hideToken: true,
        unavailable: null,
      });
      expect(session.regenerations).toBe(1);
      expect(flow.withoutToken(url)).toBe("/reference");
    });
  });

  it("restores the held visitor when there is no token, a refused one, or a kept one", async () => {
    const held = await fx.create();
    const other = await fx.create({ email: "other@example.org" });
    for (const [url, hideToken] of [
      ["/p", false],
      [`/p?vuid=${UNKNOWN}`, true],
      [`/p?vuid=${other.uuid}`, true],
    ] as const) {
      const session = new FakeSession();
      session.set(KEY, held.uuid);
      const result = await fx.enter(visit(url), session);
      expect(result).toMatchObject({
        kind: "continue",
        visitor: { uuid: held.uuid },
        hideToken,
        unavailable: null,
      });
      expect(session.regenerations).toBe(0);
    }
  });

  it("goes on as unavailable, leaving the session untouched, when the store fails", async () => {
    const held = await fx.create();
    const session = new FakeSession();
    session.set(KEY, held.uuid);
    await fx.passes.close();
    for (const url of ["/p", `/p?vuid=${held.uuid}`]) {
      const result = await fx.enter(visit(url), session);
      expect(result).toMatchObject({ kind: "continue", visitor: null, log: null });
      expect(result.kind === "continue" && result.unavailable).toBeInstanceOf(
        VisitorPassUnavailable,
      );
      expect(session.data.get(KEY)).toBe(held.uuid);
    }
  });

  it("throws the setup error it is given for a request to a path without a session", () => {
    expect(() => fx.flow.enter(visit("/p"), null, ANONYMOUS, MISSING_SESSION)).toThrow(
      VisitorPassError,
    );
    expect(() => fx.flow.enter(visit("/p"), null, ANONYMOUS, MISSING_SESSION)).toThrow(
      MISSING_SESSION,
    );
    expect(() =>
      fx.flow.settle(visit("/p"), null, ANONYMOUS, { kind: "none" }, MISSING_SESSION),
    ).toThrow(MISSING_SESSION);
  });

  it("lets a request whose target is not a path and that got no session go on as anonymous", () => {
    for (const url of ["*", `http://app.example/p?vuid=${UNKNOWN}`]) {
      expect(fx.flow.enter(visit(url, { method: "OPTIONS" }), null, ANONYMOUS, "x")).toMatchObject({
        kind: "continue",
        visitor: null,
        hideToken: false,
      });
    }
  });
});

describe("landing again with the pass the session holds", () => {
  it.each<[string, Partial<CreateVisitorInput>, number]>([
    ["a link still valid", {}, 10],
    ["an expired link", {}, 400],
    ["a used-up link", { maxUses: 1 }, 10],
  ])(
    "with %s renews nothing: no new lifetime, id or admission time",
    async (_label, input, later) => {
      const visitor = await fx.create({ sessionExpiry: 3600, ...input });
      const session = new FakeSession();
      const url = `/reference?vuid=${visitor.uuid}`;
      await fx.enter(visit(url), session);
      const stashed = new Map(session.data);
      expect(session.lifetimes).toEqual([3600]);
      fx.now = at(later);
      const { recognised, settled } = await recogniseThenSettle(visit(url), session);
      expect(recognised).toMatchObject({ recognition: { kind: "admitted", spent: false } });
      expect(settled).toMatchObject({
        kind: "respond",
        status: 302,
        location: "/reference",
        visitor: { uuid: visitor.uuid },
      });
      expect(session.lifetimes).toEqual([3600]);
      expect(session.regenerations).toBe(1);
      expect(session.data).toEqual(stashed);
      expect(await fx.usesOf(visitor)).toBe(1);
      // The lifetime still runs from the first admission.
      fx.now = at(3600);
      expect(await fx.enter(visit("/reference"), session)).toMatchObject({ visitor: null });
    },
  );

  it("once the held admission lapsed, a link that can still admit admits afresh", async () => {
    const visitor = await fx.create({ sessionExpiry: 60, expiresAt: null });
    const session = new FakeSession();
    const url = `/reference?vuid=${visitor.uuid}`;
    await fx.enter(visit(url), session);
    fx.now = at(61);
    const { recognised } = await recogniseThenSettle(visit(url), session);
    expect(recognised).toMatchObject({ recognition: { kind: "admitted", spent: true } });
    expect(session.lifetimes).toEqual([60, 60]);
    expect(await fx.usesOf(visitor)).toBe(2);
    fx.now = at(120);
    expect(await fx.enter(visit("/reference"), session)).toMatchObject({
      visitor: { uuid: visitor.uuid },
    });
  });

  it("once the held admission lapsed, an expired link admits nobody", async () => {
    const visitor = await fx.create({ sessionExpiry: 600 });
    const session = new FakeSession();
    const url = `/reference?vuid=${visitor.uuid}`;
    await fx.enter(visit(url), session);
    fx.now = at(601);
    const { recognised, settled } = await recogniseThenSettle(visit(url), session);
    expect(recognised).toMatchObject({ recognition: { kind: "refused" } });
    expect(settled).toMatchObject({ kind: "continue", visitor: null });
    expect(session.data.has(KEY)).toBe(false);
  });
});

describe("guard", () => {
  it("lets a visitor of its scope through with the visit to log and the default headers", async () => {
    const visitor = await fx.create();
    const session = new FakeSession("sess-abc");
    const request = visit("/reference?x=1", { referer: "https://app.example/" });
    const result = await fx.flow.guard(createGuard({ scope: "REFERENCE" }), {}, visitor, {
      visit: request,
      session,
      unavailable: null,
    });
    expect(result).toEqual({
      kind: "continue",
      visitor,
      hideToken: false,
      unavailable: null,
      recognition: { kind: "none" },
      log: {
        visitor,
        visit: {
          method: "GET",
          url: "/reference?x=1",
          userAgent: "UA/1.0",
          referer: "https://app.example/",
          ip: "203.0.113.9",
        },
        sessionId: "sess-abc",
      },
      headers: { "Cache-Control": "private, no-store" },
    });
    // Plain values, not the request the framework gave.
    expect(result.kind === "continue" && result.log?.visit).not.toBe(request);
  });

  it("refuses with 403, its error and a plain-text body", async () => {
    const result = await fx.flow.guard(createGuard({ scope: "REFERENCE" }), {}, null, context());
    expect(result).toEqual({
      kind: "respond",
      status: 403,
      headers: TEXT_HEADERS,
      body: "Visitor access denied.",
      location: null,
      error: expect.any(VisitorAccessDenied),
      visitor: null,
    });
  });

  it("refuses with 503 when the store failed earlier in the request, self-service or not", async () => {
    const unavailable = new VisitorPassUnavailable();
    for (const options of [{ scope: "REFERENCE" }, { scope: "REFERENCE", selfService: true }]) {
      const result = await fx.flow.guard(createGuard(options), {}, null, context({ unavailable }));
      expect(result).toEqual({
        kind: "respond",
        status: 503,
        headers: TEXT_HEADERS,
        body: unavailable.message,
        location: null,
        error: unavailable,
        visitor: null,
      });
    }
    expect(await fx.passes.list()).toEqual([]);
    // What it lets through without a pass (bypass) still goes on.
    const bypass = createGuard({ scope: "REFERENCE", bypass: () => true });
    expect(await fx.flow.guard(bypass, {}, null, context({ unavailable }))).toMatchObject({
      kind: "continue",
      log: null,
    });
  });

  describe("self-service", () => {
    const selfService = createGuard({ scope: "REFERENCE", selfService: true });

    it("sends a visitor without a pass to the form of a new pending pass remembering the page", async () => {
      const session = new FakeSession();
      const request = visit(`/reference/form?a=1&vuid=${UNKNOWN}`);
      const result = await fx.flow.guard(
        selfService,
        {},
        null,
        context({ visit: request, session }),
      );
      expect(result).toMatchObject({
        kind: "respond",
        status: 302,
        body: null,
        error: null,
        visitor: null,
      });
      const location = result.kind === "respond" ? String(result.location) : "";
      expect(result.kind === "respond" && result.headers).toEqual({ Location: location });
      const uuid = /^\/visitors\/self-service\/([0-9a-f-]{36})$/.exec(location)?.[1];
      const pending = await fx.passes.get(String(uuid));
      expect(pending).toMatchObject({ scope: "REFERENCE", isActive: false, isSelfService: true });
      expect(pending?.context?.redirectTo).toBe("/reference/form?a=1");
      // The same session asking again for the same page gets the same pass.
      expect(
        await fx.flow.guard(selfService, {}, null, context({ visit: request, session })),
      ).toMatchObject({ location });
      expect(await fx.passes.list()).toHaveLength(1);
      // Another page, another pass.
      const other = await fx.flow.guard(
        selfService,
        {},
        null,
        context({ visit: visit("/reference/other"), session }),
      );
      expect(other).toMatchObject({ status: 302 });
      expect(other.kind === "respond" && other.location).not.toBe(location);
    });

    it("refuses methods that never admit (403), creating nothing", async () => {
      for (const method of ["HEAD", "OPTIONS", "TRACE"]) {
        const result = await fx.flow.guard(
          selfService,
          {},
          null,
          context({ visit: visit("/reference", { method }) }),
        );
        expect(result).toMatchObject({ kind: "respond", status: 403 });
      }
      expect(await fx.passes.list()).toEqual([]);
    });

    it("refuses a URL too long to remember with 414", async () => {
      const result = await fx.flow.guard(
        selfService,
        {},
        null,
        context({ visit: visit(`/reference?q=${"x".repeat(2100)}`) }),
      );
      expect(result).toMatchObject({ kind: "respond", status: 414, headers: TEXT_HEADERS });
      expect(result.kind === "respond" && result.error).toBeInstanceOf(VisitorPassUriTooLong);
      expect(await fx.passes.list()).toEqual([]);
    });

    it("refuses with 429 and the throttled page over the network's budget", async () => {
      await withFlow(
        { throttle: { selfService: { points: 1, duration: 60 } } },
        async (flow, passes) => {
          const ask = (session: FakeSession) =>
            flow.guard(selfService, {}, null, context({ session }));
          expect(await ask(new FakeSession("a"))).toMatchObject({ status: 302 });
          const result = await ask(new FakeSession("b"));
          expect(result).toMatchObject({
            kind: "respond",
            status: 429,
            headers: {
              "Content-Type": "text/html; charset=utf-8",
              "Retry-After": expect.stringMatching(/^\d+$/),
            },
            location: null,
          });
          expect(result.kind === "respond" && result.error).toBeInstanceOf(VisitorPassThrottled);
          expect(result.kind === "respond" && result.body).toContain("<html");
          expect(await passes.list()).toHaveLength(1);
        },
      );
    });

    it("refuses with 503 when the store fails", async () => {
      const { Kysely, SqliteDialect } = await import("kysely");
      const { default: Sqlite } = await import("better-sqlite3");
      const database = new Sqlite(":memory:");
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database }) });
      try {
        const passes = createVisitorPass({ env: {}, database: db });
        await passes.migrate();
        // The database goes away under a service that is still open.
        database.close();
        const result = await flowOf(passes, "test()").guard(selfService, {}, null, context());
        expect(result).toMatchObject({ kind: "respond", status: 503, headers: TEXT_HEADERS });
        expect(result.kind === "respond" && result.error).toBeInstanceOf(VisitorPassUnavailable);
      } finally {
        await db.destroy().catch(() => {});
      }
    });
    // On the request path a closed service is a store that fails, as recognise and restore treat it.
    it("refuses with 503 on a service already closed, as for a failing store", async () => {
      await fx.passes.close();
      const result = await fx.flow.guard(selfService, {}, null, context());
      expect(result).toMatchObject({ kind: "respond", status: 503 });
    });
  });

  describe('while visit logs cannot be written (onLogFailure: "refuse")', () => {
    const refusing = flowFixture({ onLogFailure: "refuse", logger: SILENT });

    it("refuses visits it would log with 503, and lets the others through", async () => {
      const visitor = await refusing.passes.create({ email: "a@example.org", scope: "REFERENCE" });
      const guard = createGuard({ scope: "REFERENCE" });
      expect(await refusing.flow.guard(guard, {}, visitor, context())).toMatchObject({
        kind: "continue",
      });
      await refusing.passes.close();
      refusing.flow.recordVisit(visitor, visit("/reference"), null, 200);
      await refusing.passes.flush();
      const refused = await refusing.flow.guard(guard, {}, visitor, context());
      expect(refused).toMatchObject({ kind: "respond", status: 503, headers: TEXT_HEADERS });
      expect(refused.kind === "respond" && refused.error).toBeInstanceOf(VisitorPassUnavailable);
      const unlogged = createGuard({ scope: "REFERENCE", logVisit: false });
      expect(await refusing.flow.guard(unlogged, {}, visitor, context())).toMatchObject({
        kind: "continue",
        log: null,
      });
      const bypass = createGuard({ scope: "REFERENCE", bypass: () => true });
      expect(await refusing.flow.guard(bypass, {}, null, context())).toMatchObject({
        kind: "continue",
      });
    });
  });
});

describe("guarded responses and caches", () => {
  it('an admitted visit gets "Cache-Control: private, no-store" by default', async () => {
    const visitor = await fx.create({ scope: "REFERENCE" });
    expect(
      await fx.flow.guard(createGuard({ scope: "REFERENCE" }), {}, visitor, context()),
    ).toMatchObject({ kind: "continue", headers: { "Cache-Control": "private, no-store" } });
    const bypassed = await fx.flow.guard(
      createGuard({ scope: "REFERENCE", bypass: () => true }),
      {},
      null,
      context(),
    );
    expect(bypassed).toMatchObject({ headers: { "Cache-Control": "private, no-store" } });
  });

  it("a guard's cacheControl, or the service's guardCacheControl, changes or drops it", async () => {
    const visitor = await fx.create({ scope: "REFERENCE" });
    const own = createGuard({ scope: "REFERENCE", cacheControl: "private, max-age=60" });
    expect(await fx.flow.guard(own, {}, visitor, context())).toMatchObject({
      headers: { "Cache-Control": "private, max-age=60" },
    });
    const none = createGuard({ scope: "REFERENCE", cacheControl: false });
    expect(await fx.flow.guard(none, {}, visitor, context())).toMatchObject({ headers: null });

    await withFlow({ guardCacheControl: false }, async (relaxed) => {
      const guard = createGuard({ scope: "REFERENCE" });
      expect(await relaxed.guard(guard, {}, visitor, context())).toMatchObject({ headers: null });
      expect(await relaxed.guard(own, {}, visitor, context())).toMatchObject({
        headers: { "Cache-Control": "private, max-age=60" },
      });
    });
  });
});

describe("handle: enter and guard in one call", () => {
  const guard = createGuard({ scope: "REFERENCE" });

  it("answers a landing with its redirect before the guard is asked", async () => {
    const bypass = vi.fn(() => false);
    const visitor = await fx.create();
    const session = new FakeSession();
    const result = await fx.flow.handle(
      visit(`/reference?vuid=${visitor.uuid}`),
      session,
      ANONYMOUS,
      createGuard({ scope: "PAYMENT", bypass }),
      {},
    );
    expect(result).toMatchObject({ kind: "respond", status: 302, location: "/reference" });
    expect(bypass).not.toHaveBeenCalled();
    expect(session.data.get(KEY)).toBe(visitor.uuid);
  });

  it("hands the route's params to the guard's match: its own reference admitted, another refused", async () => {
    const visitor = await fx.create({ context: { referenceId: "42" } });
    const session = new FakeSession();
    const own = createGuard<unknown>({
      scope: "REFERENCE",
      match: (v, r) =>
        v.context?.referenceId === r.params.id && r.path === `/references/${r.params.id}`,
    });
    await fx.flow.handle(
      visit(`/references/42?vuid=${visitor.uuid}`),
      session,
      ANONYMOUS,
      null,
      {},
    );
    const admitted = await fx.flow.handle(
      visit("/references/42"),
      session,
      ANONYMOUS,
      own,
      {},
      null,
      {
        id: "42",
      },
    );
    expect(admitted).toMatchObject({ kind: "continue", log: { visitor: { uuid: visitor.uuid } } });
    const refused = await fx.flow.handle(
      visit("/references/43"),
      session,
      ANONYMOUS,
      own,
      {},
      null,
      {
        id: "43",
      },
    );
    expect(refused).toMatchObject({ kind: "respond", status: 403 });
    // Without params (a caller that has none), the match cannot see the id: refused.
    expect(
      await fx.flow.handle(visit("/references/42"), session, ANONYMOUS, own, {}),
    ).toMatchObject({
      kind: "respond",
      status: 403,
    });
  });

  it("lets the held visitor through with the visit to log, recorded with its status", async () => {
    const visitor = await fx.create();
    const session = new FakeSession("sess-1");
    await fx.flow.handle(
      visit(`/reference?vuid=${visitor.uuid}`, { referer: "https://mail.example/" }),
      session,
      ANONYMOUS,
      guard,
      {},
    );
    const result = await fx.flow.handle(visit("/reference?x=1"), session, ANONYMOUS, guard, {});
    expect(result).toMatchObject({
      kind: "continue",
      visitor: { uuid: visitor.uuid },
      hideToken: false,
      unavailable: null,
      log: {
        sessionId: session.id,
        visit: { url: "/reference?x=1", referer: "https://mail.example/" },
      },
      headers: { "Cache-Control": "private, no-store" },
    });
    if (result.kind !== "continue" || !result.log) throw new Error("not let through");
    fx.flow.recordPending(result.log, 201);
    expect(await fx.passes.logs(visitor.uuid)).toMatchObject([
      {
        statusCode: 201,
        requestUri: "/reference",
        queryString: "x=1",
        httpReferer: "https://mail.example/",
        sessionKey: session.id,
      },
    ]);
  });

  it("keeps hiding a token the request carried when the guard lets it through", async () => {
    const visitor = await fx.create();
    const bypass = createGuard({ scope: "REFERENCE", bypass: () => true });
    const result = await fx.flow.handle(
      visit(`/reference?vuid=${visitor.uuid}`, { method: "POST" }),
      new FakeSession(),
      ANONYMOUS,
      bypass,
      {},
    );
    expect(result).toMatchObject({ kind: "continue", visitor: null, hideToken: true, log: null });
  });

  it("passes the app's request to bypass", async () => {
    const seen: unknown[] = [];
    const options: GuardOptions<{ user: string }> = {
      scope: "REFERENCE",
      bypass: (request) => {
        seen.push(request);
        return true;
      },
    };
    const appRequest = { user: "staff" };
    const result = await fx.flow.handle(
      visit("/reference"),
      new FakeSession(),
      SIGNED_IN,
      createGuard(options),
      appRequest,
    );
    expect(result).toMatchObject({ kind: "continue", log: null });
    expect(seen).toEqual([appRequest]);
  });

  it("refuses with 403 a visitor without a pass, and with 503 when the store failed", async () => {
    const denied = await fx.flow.handle(
      visit("/reference"),
      new FakeSession(),
      ANONYMOUS,
      guard,
      {},
    );
    expect(denied).toMatchObject({ kind: "respond", status: 403, body: "Visitor access denied." });
    const held = await fx.create();
    const session = new FakeSession();
    session.set(KEY, held.uuid);
    await fx.passes.close();
    const failed = await fx.flow.handle(visit("/reference"), session, ANONYMOUS, guard, {});
    expect(failed).toMatchObject({ kind: "respond", status: 503 });
    expect(failed.kind === "respond" && failed.error).toBeInstanceOf(VisitorPassUnavailable);
    expect(session.data.get(KEY)).toBe(held.uuid);
  });

  it("without a guard, answers as enter does", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    session.set(KEY, visitor.uuid);
    const result = await fx.flow.handle(visit("/reference"), session, ANONYMOUS, null, {});
    expect(result).toEqual(await fx.enter(visit("/reference"), session));
    expect(result).toMatchObject({ kind: "continue", visitor: { uuid: visitor.uuid }, log: null });
    expect(await fx.flow.handle(visit("/p?vuid=bad"), session, ANONYMOUS, null, {})).toMatchObject({
      kind: "respond",
      status: 400,
    });
  });
});

describe("recordVisit and passes.logs", () => {
  it("records the visit: method, path, query without the token, session, status, time", async () => {
    const visitor = await fx.create();
    fx.now = at(42);
    fx.flow.recordVisit(
      visitor,
      visit(`/reference/form?a=1&vuid=${visitor.uuid}&b=x%20y&flag`, {
        method: "post",
        referer: "https://example.com/mail",
      }),
      "sess-abc",
      201,
    );
    const [log, ...rest] = await fx.passes.logs(visitor.uuid);
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
    const visitor = await fx.create();
    fx.flow.recordVisit(
      visitor,
      visit(`/p?vuid=${visitor.uuid}&vuid2=keep&%76uid=${visitor.uuid}&xvuid=keep`),
      null,
      200,
    );
    const [log] = await fx.passes.logs(visitor.uuid);
    expect(log?.queryString).toBe("vuid2=keep&xvuid=keep");
    expect(log?.queryString).not.toContain(visitor.uuid);
  });

  it("stores a path without a query as that path and an empty query", async () => {
    const visitor = await fx.create();
    fx.flow.recordVisit(visitor, visit("/plain/path"), null, 200);
    fx.flow.recordVisit(visitor, visit(`/only-token?vuid=${visitor.uuid}#frag`), null, 200);
    const logs = await fx.passes.logs(visitor.uuid);
    expect(logs.map((log) => [log.requestUri, log.queryString])).toEqual([
      ["/only-token", ""],
      ["/plain/path", ""],
    ]);
  });

  it("records the status code it is given, and null session and headers as null", async () => {
    const visitor = await fx.create();
    fx.flow.recordVisit(
      visitor,
      visit("/p", { userAgent: null, referer: null, ip: null }),
      null,
      404,
    );
    const [log] = await fx.passes.logs(visitor.uuid);
    expect(log).toMatchObject({
      statusCode: 404,
      sessionKey: null,
      httpUserAgent: null,
      httpReferer: null,
      remoteAddr: null,
    });
  });

  it("clips long values so a hostile request cannot bloat the table", async () => {
    const visitor = await fx.create();
    fx.flow.recordVisit(
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
    const [log] = await fx.passes.logs(visitor.uuid);
    expect(log?.httpMethod).toBe("X".repeat(16));
    expect(log?.requestUri).toBe(`/${"p".repeat(1999)}`);
    expect(log?.queryString).toBe("q".repeat(2000));
    expect(log?.httpUserAgent).toHaveLength(1000);
    expect(log?.httpReferer).toHaveLength(2000);
    expect(log?.remoteAddr).toHaveLength(64);
    expect(log?.sessionKey).toHaveLength(255);
  });

  it("uses the configured querystringKey when removing the token", async () => {
    await withFlow({ querystringKey: "t" }, async (flow, passes) => {
      const visitor = await passes.create({ email: "a@example.org", scope: "S" });
      flow.recordVisit(visitor, visit(`/p?t=${visitor.uuid}&vuid=x`), null, 200);
      const [log] = await passes.logs(visitor.uuid);
      expect(log?.queryString).toBe("vuid=x");
      expect(flow.withoutToken(`/p?t=${visitor.uuid}&vuid=x`)).toBe("/p?vuid=x");
    });
  });

  it("never throws, and reports a log it could not write on the console", async () => {
    const visitor = await fx.create();
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      fx.now = at(301);
      await fx.passes.purge();
      expect(() => fx.flow.recordVisit(visitor, visit("/gone"), null, 200)).not.toThrow();
      await fx.passes.flush();
      expect(error).toHaveBeenCalledTimes(1);
      expect(String(error.mock.calls[0]?.[0])).toContain("visit logs whose pass no longer exists");
    } finally {
      error.mockRestore();
    }
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
    await withFlow({ anonymizeIp }, async (flow, passes) => {
      const visitor = await passes.create({ email: "a@example.org", scope: "S" });
      flow.recordVisit(visitor, visit("/p", { ip }), null, 200);
      const [log] = await passes.logs(visitor.uuid);
      expect(log?.remoteAddr).toBe(stored);
    });
  });
});
