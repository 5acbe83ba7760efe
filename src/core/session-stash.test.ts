import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ANONYMOUS,
  at,
  FakeSession,
  flowFixture,
  KEY,
  T0,
  UNKNOWN,
  visit,
} from "../../test/support/flow.js";
import { VisitorPassUnavailable } from "../index.js";
import { createGuard } from "./guard.js";

const fx = flowFixture();

/** Admits `uuid` on a GET landing with `session`, as the middleware does. */
async function land(session: FakeSession, uuid: string, referer: string | null = null) {
  return fx.enter(visit(`/reference?vuid=${uuid}`, { referer }), session);
}

describe("stash", () => {
  it("puts the uuid under sessionKey and makes the cookie a browser-session one for 0", async () => {
    const visitor = await fx.create({ sessionExpiry: 0 });
    const session = new FakeSession();
    await fx.flow.stash.stash(session, visitor, false);
    expect(session.data.get(KEY)).toBe(visitor.uuid);
    expect(session.data.get(`${KEY}:admitted`)).toBe(String(T0.getTime()));
    expect(session.lifetimes).toEqual([0]);
  });

  it("sets the cookie lifetime to the pass's sessionExpiry", async () => {
    const visitor = await fx.create({ sessionExpiry: 3600 });
    const session = new FakeSession();
    await fx.flow.stash.stash(session, visitor, false);
    expect(session.lifetimes).toEqual([3600]);
  });

  it("leaves the cookie alone when sessionExpiry is null", async () => {
    const visitor = await fx.create({ sessionExpiry: null });
    const session = new FakeSession();
    await fx.flow.stash.stash(session, visitor, false);
    expect(session.data.get(KEY)).toBe(visitor.uuid);
    expect(session.lifetimes).toEqual([]);
  });

  it("leaves the cookie alone for an authenticated user", async () => {
    const visitor = await fx.create({ sessionExpiry: 60 });
    const session = new FakeSession();
    await fx.flow.stash.stash(session, visitor, true);
    expect(session.data.get(KEY)).toBe(visitor.uuid);
    expect(session.lifetimes).toEqual([]);
  });

  it("gives the session a new id first, keeping its data", async () => {
    const visitor = await fx.create();
    const session = new FakeSession("before");
    session.set("cart", "3 items");
    await fx.flow.stash.stash(session, visitor, false);
    expect(session.regenerations).toBe(1);
    expect(session.id).not.toBe("before");
    expect(session.data.get("cart")).toBe("3 items");
    expect(session.data.get(KEY)).toBe(visitor.uuid);
  });

  it("keeps the session id when the session already holds this pass", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    session.set(KEY, visitor.uuid);
    await fx.flow.stash.stash(session, visitor, false);
    expect(session.regenerations).toBe(0);
  });

  it("renews the id when the session held a different pass", async () => {
    const visitor = await fx.create();
    const other = await fx.create({ email: "other@example.org" });
    const session = new FakeSession();
    session.set(KEY, other.uuid);
    await fx.flow.stash.stash(session, visitor, true);
    expect(session.regenerations).toBe(1);
    expect(session.data.get(KEY)).toBe(visitor.uuid);
  });

  it("does not touch other session keys", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    session.set("cart", "3 items");
    await fx.flow.stash.stash(session, visitor, false);
    expect(session.data.get("cart")).toBe("3 items");
  });
});

describe("restore", () => {
  it("is null, touching nothing, when the session holds no visitor", async () => {
    const session = new FakeSession();
    session.set("cart", "x");
    expect(await fx.flow.stash.restore(session)).toBeNull();
    expect([...session.data.keys()]).toEqual(["cart"]);
  });

  it("returns the stashed visitor while the pass is active, spending nothing", async () => {
    const visitor = await fx.create({ maxUses: 1 });
    const session = new FakeSession();
    await land(session, visitor.uuid);
    const restored = await fx.flow.stash.restore(session);
    expect(restored?.uuid).toBe(visitor.uuid);
    expect(session.data.get(KEY)).toBe(visitor.uuid);
    expect(await fx.usesOf(visitor)).toBe(1);
    // The middleware restores it on a request without a token.
    expect(await fx.enter(visit("/reference"), session)).toMatchObject({
      kind: "continue",
      visitor: { uuid: visitor.uuid },
      hideToken: false,
    });
    expect(await fx.usesOf(visitor)).toBe(1);
  });

  it("keeps restoring after the link itself expired", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    await fx.flow.stash.stash(session, visitor, false);
    fx.now = at(10_000);
    const restored = await fx.flow.stash.restore(session);
    expect(restored?.uuid).toBe(visitor.uuid);
    expect(restored?.hasExpired).toBe(true);
    expect(session.data.get(KEY)).toBe(visitor.uuid);
  });

  it("removes the key and returns null once the pass is deactivated", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    await fx.flow.stash.stash(session, visitor, false);
    session.set("cart", "x");
    await fx.passes.deactivate(visitor.uuid);
    expect(await fx.flow.stash.restore(session)).toBeNull();
    expect(session.data.has(KEY)).toBe(false);
    expect(session.data.get("cart")).toBe("x");
  });

  it("removes the key and returns null once the pass is purged", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    await fx.flow.stash.stash(session, visitor, false);
    fx.now = at(301);
    expect(await fx.passes.purge()).toBe(1);
    expect(await fx.flow.stash.restore(session)).toBeNull();
    expect(session.data.has(KEY)).toBe(false);
  });

  it("removes the key for a uuid no pass has", async () => {
    const session = new FakeSession();
    session.set(KEY, UNKNOWN);
    expect(await fx.flow.stash.restore(session)).toBeNull();
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
    await fx.create();
    const session = new FakeSession();
    session.data.set(KEY, value);
    expect(await fx.flow.stash.restore(session)).toBeNull();
    expect(session.data.has(KEY)).toBe(false);
  });

  it("restores a stashed uuid written in upper case", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    session.set(KEY, visitor.uuid.toUpperCase());
    expect((await fx.flow.stash.restore(session))?.uuid).toBe(visitor.uuid);
  });

  it("restores again once a deactivated pass is reactivated (if the key survived)", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    await fx.flow.stash.stash(session, visitor, false);
    await fx.passes.deactivate(visitor.uuid);
    await fx.passes.reactivate(visitor.uuid);
    expect((await fx.flow.stash.restore(session))?.uuid).toBe(visitor.uuid);
  });

  it("rejects with VisitorPassUnavailable, leaving the session as it was, when the store fails", async () => {
    const held = await fx.create();
    const session = new FakeSession();
    session.set(KEY, held.uuid);
    await fx.passes.close();
    await expect(fx.flow.stash.restore(session)).rejects.toBeInstanceOf(VisitorPassUnavailable);
    expect(session.data.get(KEY)).toBe(held.uuid);
  });
});

describe("clear", () => {
  it("removes the visitor from the session and nothing else", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    session.set("cart", "x");
    await fx.flow.stash.stash(session, visitor, false);
    fx.flow.clear(session);
    expect(session.data.has(KEY)).toBe(false);
    expect(session.data.get("cart")).toBe("x");
    expect(await fx.flow.stash.restore(session)).toBeNull();
  });

  it("also drops a Referer carried over from the landing", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    await land(session, visitor.uuid, "https://mail.example/");
    expect([...session.data.values()]).toContain("https://mail.example/");
    fx.flow.clear(session);
    expect([...session.data.keys()]).toEqual([]);
    // A later logged visit (by a visitor admitted again) is not given the old Referer.
    const guarded = await fx.flow.guard(createGuard({ scope: "REFERENCE" }), {}, visitor, {
      visit: visit("/q"),
      session,
      unavailable: null,
    });
    expect(guarded).toMatchObject({ kind: "continue", log: { visit: { referer: null } } });
  });

  it("is harmless on a session without a visitor", () => {
    const session = new FakeSession();
    expect(() => fx.flow.clear(session)).not.toThrow();
    expect(session.data.size).toBe(0);
  });
});

describe("the pass's session lifetime is absolute", () => {
  it("restores until sessionExpiry after the admission and forgets the visitor at it", async () => {
    const visitor = await fx.create({ sessionExpiry: 3600 });
    const session = new FakeSession();
    session.set("cart", "x");
    await land(session, visitor.uuid);
    fx.now = at(3599);
    expect((await fx.flow.stash.restore(session))?.uuid).toBe(visitor.uuid);
    fx.now = at(3600);
    expect(await fx.flow.stash.restore(session)).toBeNull();
    expect([...session.data.keys()]).toEqual(["cart"]);
  });

  it("applies to a signed-in user's session too, whose cookie it leaves alone", async () => {
    const visitor = await fx.create({ sessionExpiry: 60 });
    const session = new FakeSession();
    await fx.flow.stash.stash(session, visitor, true);
    expect(session.lifetimes).toEqual([]);
    fx.now = at(60);
    expect(await fx.flow.stash.restore(session)).toBeNull();
  });

  it("sessionExpiry 0 and null set no lifetime of their own", async () => {
    for (const sessionExpiry of [0, null]) {
      const visitor = await fx.create({ sessionExpiry, expiresAt: null });
      const session = new FakeSession();
      await fx.flow.stash.stash(session, visitor, false);
      fx.now = at(10 * 365 * 86_400);
      expect((await fx.flow.stash.restore(session))?.uuid).toBe(visitor.uuid);
      fx.now = T0;
    }
  });

  it.each<[string, unknown]>([
    ["missing", undefined],
    ["not a number", "soon"],
    ["not a string", 12],
  ])("a session whose admission time is %s is not honoured", async (_label, value) => {
    const visitor = await fx.create({ sessionExpiry: 3600 });
    const session = new FakeSession();
    await fx.flow.stash.stash(session, visitor, false);
    if (value === undefined) session.data.delete(`${KEY}:admitted`);
    else session.data.set(`${KEY}:admitted`, value);
    expect(await fx.flow.stash.restore(session)).toBeNull();
    expect(session.data.has(KEY)).toBe(false);
  });

  it("counts from the admission on the cached path as on the queried one", async () => {
    const visitor = await fx.create({ sessionExpiry: 30 });
    const session = new FakeSession();
    await land(session, visitor.uuid);
    // Read once: the pass is now cached.
    expect((await fx.flow.stash.restore(session))?.uuid).toBe(visitor.uuid);
    fx.now = at(30);
    // Answered at once, from the cache, and no longer honoured.
    expect(fx.flow.stash.restore(session)).toBeNull();
  });
});

describe('tokenStorage: "hash" in the session', () => {
  const hashed = flowFixture({ sessionExpiry: 3600, tokenStorage: "hash" });
  const digestOf = (token: string) => createHash("sha256").update(token).digest("hex");

  it("keeps the digest, never the token, and restores the visitor by it", async () => {
    const visitor = await hashed.passes.create({ email: "a@example.org", scope: "S" });
    const digest = digestOf(visitor.uuid);
    const session = new FakeSession();
    const request = visit(`/p?vuid=${visitor.uuid}`, { referer: "https://mail.example/" });
    expect(await hashed.enter(request, session)).toMatchObject({ kind: "respond", status: 302 });
    expect(session.data.get(KEY)).toBe(digest);
    expect(JSON.stringify([...session.data])).not.toContain(visitor.uuid);
    for (let i = 0; i < 2; i++) {
      const restored = await hashed.flow.stash.restore(session);
      expect(restored).toMatchObject({ uuid: digest, email: "a@example.org" });
    }
    // From the pass cache, as with plain tokens: answered at once, no query.
    expect(hashed.flow.stash.restore(session)).toMatchObject({ uuid: digest });
    // Landing again finds the session already holds it: nothing spent.
    const again = await hashed.flow.recognise(request, session, ANONYMOUS);
    expect(again).toMatchObject({ recognition: { kind: "admitted", spent: false } });
    expect((await hashed.passes.get(visitor.uuid))?.uses).toBe(1);
    await hashed.passes.deactivate(digest);
    expect(await hashed.flow.stash.restore(session)).toBeNull();
  });

  it("a session stashed with the token is given the digest instead", async () => {
    const visitor = await hashed.passes.create({ email: "a@example.org", scope: "S" });
    const session = new FakeSession();
    session.set(KEY, visitor.uuid);
    session.set(`${KEY}:admitted`, String(hashed.now.getTime()));
    expect(await hashed.flow.stash.restore(session)).not.toBeNull();
    expect(session.data.get(KEY)).toBe(digestOf(visitor.uuid));
  });

  it("still finds a pass by token with its token, after the session's lookups by digest", async () => {
    const visitor = await hashed.passes.create({ email: "a@example.org", scope: "S" });
    const session = new FakeSession();
    await hashed.flow.stash.stash(session, visitor, false);
    await hashed.flow.stash.restore(session);
    expect((await hashed.passes.get(visitor.uuid))?.uuid).toBe(visitor.uuid);
  });
});
