import { describe, expect, it } from "vitest";
import {
  ANONYMOUS,
  at,
  FakeSession,
  flowFixture,
  KEY,
  SIGNED_IN,
  UNKNOWN,
  visit,
  withFlow,
} from "../../test/support/flow.js";
import { MalformedVisitorToken, type Visitor, VisitorPassUnavailable } from "../index.js";
import type { SessionPort, VisitRequest } from "./ports.js";

const fx = flowFixture();

/**
 * What a GET landing with `token` comes to, as the middleware's first half sees it: the admitted
 * pass (one use spent unless the session already held it), or `null` when nobody is admitted.
 */
async function admitOnGet(
  token: string,
  session: SessionPort | null = null,
): Promise<Visitor | null> {
  const result = await fx.flow.recognise(visit(`/p?vuid=${token}`), session, ANONYMOUS);
  expect(result.kind).toBe("continue");
  return result.visitor;
}

/** What the token on `request` came to, when the request goes on. */
async function recognitionOf(request: VisitRequest, session: SessionPort | null = null) {
  const result = await fx.flow.recognise(request, session, ANONYMOUS);
  if (result.kind !== "continue") throw new Error(`answered ${result.status}`);
  return result.recognition;
}

describe("the token on the URL", () => {
  it("is read from the configured key; none without one, 400 for a bad one", async () => {
    expect(await fx.flow.recognise(visit(`/p?vuid=${UNKNOWN}`), null, ANONYMOUS)).toMatchObject({
      kind: "continue",
      visitor: null,
      hideToken: true,
      recognition: { kind: "refused" },
    });
    expect(await fx.flow.recognise(visit(`/p?other=${UNKNOWN}`), null, ANONYMOUS)).toMatchObject({
      kind: "continue",
      visitor: null,
      hideToken: false,
      recognition: { kind: "none" },
    });
    expect(await fx.flow.recognise(visit("/p?vuid=bad"), null, ANONYMOUS)).toMatchObject({
      kind: "respond",
      status: 400,
    });
  });

  it("answers a token that is not a uuid with 400 and a plain-text page, touching nothing", async () => {
    const session = new FakeSession();
    const result = await fx.flow.recognise(visit("/p?vuid=bad"), session, ANONYMOUS);
    expect(result).toEqual({
      kind: "respond",
      status: 400,
      headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
      body: new MalformedVisitorToken().message,
      location: null,
      error: null,
      visitor: null,
    });
    expect(session.data.size).toBe(0);
    // The middleware answers the same.
    expect(await fx.enter(visit("/p?vuid=bad"), session)).toEqual(result);
  });

  it("is not looked at on a request whose target is not a path and that has no session", async () => {
    for (const url of [`*?vuid=bad`, `http://app.example/p?vuid=${UNKNOWN}`]) {
      expect(await fx.flow.recognise(visit(url), null, ANONYMOUS)).toMatchObject({
        kind: "continue",
        visitor: null,
        hideToken: false,
        recognition: { kind: "none" },
      });
    }
  });
});

describe("a landing admits", () => {
  it("admits a valid pass and spends one use", async () => {
    const visitor = await fx.create();
    const admitted = await admitOnGet(visitor.uuid);
    expect(admitted?.uuid).toBe(visitor.uuid);
    expect(admitted?.uses).toBe(1);
    expect(await fx.usesOf(visitor)).toBe(1);
    await admitOnGet(visitor.uuid);
    expect(await fx.usesOf(visitor)).toBe(2);
  });

  it("admits nobody for an unknown pass", async () => {
    expect(await admitOnGet(UNKNOWN)).toBeNull();
  });

  it("admits nobody for an inactive pass, spending nothing", async () => {
    const visitor = await fx.create();
    await fx.passes.deactivate(visitor.uuid);
    expect(await admitOnGet(visitor.uuid)).toBeNull();
    expect(await fx.usesOf(visitor)).toBe(0);
  });

  it("admits up to the last millisecond before expiresAt, and not at it", async () => {
    const visitor = await fx.create();
    fx.now = new Date(at(300).getTime() - 1);
    expect(await admitOnGet(visitor.uuid)).not.toBeNull();
    fx.now = at(300);
    expect(await admitOnGet(visitor.uuid)).toBeNull();
    expect(await fx.usesOf(visitor)).toBe(1);
  });

  it("admits a pass without expiry at any time", async () => {
    const visitor = await fx.create({ expiresAt: null });
    fx.now = new Date("2999-01-01T00:00:00Z");
    expect(await admitOnGet(visitor.uuid)).not.toBeNull();
  });

  it("admits nobody once maxUses are spent", async () => {
    const visitor = await fx.create({ maxUses: 2 });
    expect(await admitOnGet(visitor.uuid)).not.toBeNull();
    expect(await admitOnGet(visitor.uuid)).not.toBeNull();
    expect(await admitOnGet(visitor.uuid)).toBeNull();
    expect(await fx.usesOf(visitor)).toBe(2);
  });

  it("lets exactly one of many concurrent landings spend a one-use pass", async () => {
    const visitor = await fx.create({ maxUses: 1 });
    const results = await Promise.all(Array.from({ length: 10 }, () => admitOnGet(visitor.uuid)));
    expect(results.filter((result) => result !== null)).toHaveLength(1);
    expect(await fx.usesOf(visitor)).toBe(1);
  });

  it("spends nothing when the session already holds this very pass", async () => {
    const visitor = await fx.create({ maxUses: 1 });
    const session = new FakeSession();
    const first = await admitOnGet(visitor.uuid, session);
    expect(first).not.toBeNull();
    await fx.flow.stash.stash(session, first!, false);
    const again = await admitOnGet(visitor.uuid, session);
    expect(again?.uuid).toBe(visitor.uuid);
    expect(await admitOnGet(visitor.uuid, session)).not.toBeNull();
    expect(await fx.usesOf(visitor)).toBe(1);
  });

  it("spends a use when the session holds a different pass it no longer honours", async () => {
    const visitor = await fx.create();
    const other = await fx.create({ email: "other@example.org" });
    const session = new FakeSession();
    session.set(KEY, other.uuid);
    await fx.passes.deactivate(other.uuid);
    expect(await admitOnGet(visitor.uuid, session)).not.toBeNull();
    expect(await fx.usesOf(visitor)).toBe(1);
  });

  it("refuses a pass the session holds once it is deactivated", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    session.set(KEY, visitor.uuid);
    await fx.passes.deactivate(visitor.uuid);
    expect(await admitOnGet(visitor.uuid, session)).toBeNull();
  });

  it("takes a null session like no session", async () => {
    const visitor = await fx.create();
    expect(await admitOnGet(visitor.uuid, null)).not.toBeNull();
    expect(await fx.usesOf(visitor)).toBe(1);
  });
});

describe("recognise", () => {
  it("lets the request go on as anonymous without a token", async () => {
    expect(await fx.flow.recognise(visit("/p?a=1"), new FakeSession(), ANONYMOUS)).toEqual({
      kind: "continue",
      visitor: null,
      hideToken: false,
      unavailable: null,
      recognition: { kind: "none" },
      log: null,
      headers: null,
    });
  });

  it.each(["HEAD", "OPTIONS", "TRACE", "head"])(
    "never admits on %s, spending nothing, and hides the token",
    async (method) => {
      const visitor = await fx.create();
      const result = await fx.flow.recognise(
        visit(`/p?vuid=${visitor.uuid}`, { method }),
        new FakeSession(),
        ANONYMOUS,
      );
      expect(result).toMatchObject({
        kind: "continue",
        visitor: null,
        hideToken: true,
        recognition: { kind: "ignored" },
      });
      expect(await fx.usesOf(visitor)).toBe(0);
    },
  );

  it("answers 400 for a token that is not a uuid", async () => {
    const result = await fx.flow.recognise(visit("/p?vuid=bad"), null, ANONYMOUS);
    expect(result).toMatchObject({
      kind: "respond",
      status: 400,
      body: "Malformed visitor token.",
    });
  });

  it("admits a valid token, in any case, spending a use", async () => {
    const visitor = await fx.create();
    const result = await fx.flow.recognise(
      visit(`/p?vuid=${visitor.uuid.toUpperCase()}`),
      new FakeSession(),
      ANONYMOUS,
    );
    expect(result).toMatchObject({
      kind: "continue",
      visitor: { uuid: visitor.uuid },
      hideToken: true,
      unavailable: null,
      recognition: { kind: "admitted", spent: true },
    });
    expect(await fx.usesOf(visitor)).toBe(1);
  });

  it.each(["POST", "PUT", "PATCH", "DELETE", "post"])(
    "a token on a %s that is not the confirmation's admits nobody, spending nothing",
    async (method) => {
      const visitor = await fx.create();
      const recognition = await recognitionOf(
        visit(`/p?vuid=${visitor.uuid}`, { method }),
        new FakeSession(),
      );
      expect(recognition).toEqual({ kind: "ignored" });
      expect(await fx.usesOf(visitor)).toBe(0);
    },
  );

  it("the confirming POST admits from this site, and from another site admits nobody", async () => {
    const visitor = await fx.create();
    const url = `/p?vuid=${visitor.uuid}&vuid-confirm=1`;
    const post = (changes: Partial<VisitRequest>) =>
      recognitionOf(visit(url, { method: "POST", host: "app.example", ...changes }));
    for (const crossSite of [
      { secFetchSite: "cross-site" },
      { secFetchSite: "same-site" },
      { origin: "https://evil.example" },
      { origin: "null" },
    ]) {
      expect(await post(crossSite)).toEqual({ kind: "ignored" });
    }
    // A PUT marked as a confirmation is still not one.
    expect(await recognitionOf(visit(url, { method: "PUT", secFetchSite: "same-origin" }))).toEqual(
      { kind: "ignored" },
    );
    expect(await fx.usesOf(visitor)).toBe(0);
    expect(await post({ secFetchSite: "same-origin" })).toMatchObject({
      kind: "admitted",
      spent: true,
      confirmed: true,
    });
    expect(await fx.usesOf(visitor)).toBe(1);
    // Without Sec-Fetch-Site, an Origin naming this host is this site.
    expect(await post({ origin: "https://app.example" })).toMatchObject({ kind: "admitted" });
  });

  it("lets the request go on as anonymous for an unknown, inactive, expired or used-up pass", async () => {
    const inactive = await fx.create();
    await fx.passes.deactivate(inactive.uuid);
    const usedUp = await fx.create({ maxUses: 1 });
    await admitOnGet(usedUp.uuid);
    const expired = await fx.create({ expiresAt: at(-1) });
    for (const uuid of [UNKNOWN, inactive.uuid, usedUp.uuid, expired.uuid]) {
      expect(await fx.flow.recognise(visit(`/p?vuid=${uuid}`), null, ANONYMOUS)).toMatchObject({
        kind: "continue",
        visitor: null,
        hideToken: true,
        unavailable: null,
        recognition: { kind: "refused" },
      });
    }
  });

  it("spends nothing when the session already holds this pass", async () => {
    const visitor = await fx.create();
    const session = new FakeSession();
    session.set(KEY, visitor.uuid);
    const recognition = await recognitionOf(visit(`/p?vuid=${visitor.uuid}`), session);
    expect(recognition).toMatchObject({ kind: "admitted", spent: false });
    expect(await fx.usesOf(visitor)).toBe(0);
  });

  it("keeps the visitor a session holds against another pass's link (default onConflict)", async () => {
    const held = await fx.create();
    const planted = await fx.create({ email: "planted@example.org" });
    const session = new FakeSession();
    session.set(KEY, held.uuid);
    const result = await fx.flow.recognise(visit(`/p?vuid=${planted.uuid}`), session, ANONYMOUS);
    expect(result).toMatchObject({
      kind: "continue",
      visitor: null,
      hideToken: true,
      recognition: { kind: "kept" },
    });
    expect(await fx.usesOf(planted)).toBe(0);
  });

  it("keeps a signed-in user's session free of visitor links (default onConflict)", async () => {
    const visitor = await fx.create();
    const result = await fx.flow.recognise(
      visit(`/p?vuid=${visitor.uuid}`),
      new FakeSession(),
      SIGNED_IN,
    );
    expect(result).toMatchObject({ kind: "continue", recognition: { kind: "kept" } });
    expect(await fx.usesOf(visitor)).toBe(0);
  });

  it("admits a new pass when the held one is no longer active", async () => {
    const held = await fx.create();
    await fx.passes.deactivate(held.uuid);
    const fresh = await fx.create({ email: "fresh@example.org" });
    const session = new FakeSession();
    session.set(KEY, held.uuid);
    const recognition = await recognitionOf(visit(`/p?vuid=${fresh.uuid}`), session);
    expect(recognition).toMatchObject({ kind: "admitted", spent: true });
  });

  it("with onConflict 'replace', admits the new pass over the held one or a signed-in user", async () => {
    await withFlow({ sessionKey: KEY, onConflict: "replace" }, async (flow, passes) => {
      const held = await passes.create({ email: "a@example.org", scope: "S" });
      const fresh = await passes.create({ email: "b@example.org", scope: "S" });
      const session = new FakeSession();
      session.set(KEY, held.uuid);
      expect(
        await flow.recognise(visit(`/p?vuid=${fresh.uuid}`), session, ANONYMOUS),
      ).toMatchObject({
        kind: "continue",
        visitor: { uuid: fresh.uuid },
        recognition: { kind: "admitted", spent: true },
      });
      expect(await flow.recognise(visit(`/p?vuid=${held.uuid}`), null, SIGNED_IN)).toMatchObject({
        kind: "continue",
        visitor: { uuid: held.uuid },
        recognition: { kind: "admitted" },
      });
    });
  });

  it("goes on as unavailable (503), not a crash, when the store fails", async () => {
    const visitor = await fx.create();
    await fx.passes.close();
    const result = await fx.flow.recognise(visit(`/p?vuid=${visitor.uuid}`), null, ANONYMOUS);
    expect(result).toMatchObject({
      kind: "continue",
      visitor: null,
      hideToken: true,
      recognition: { kind: "unavailable" },
    });
    const error = result.kind === "continue" ? result.unavailable : null;
    expect(error).toBeInstanceOf(VisitorPassUnavailable);
    expect(error?.status).toBe(503);
    expect(error?.cause).toBeInstanceOf(Error);
  });
});

describe("the confirmation page", () => {
  it("is the answer (200, the package's page headers) for a pass that needs confirming, spending nothing", async () => {
    await withFlow({ confirm: true }, async (flow, passes) => {
      const visitor = await passes.create({ email: "a@example.org", scope: "S" });
      const session = new FakeSession();
      const result = await flow.recognise(visit(`/p?vuid=${visitor.uuid}`), session, ANONYMOUS);
      expect(result).toMatchObject({
        kind: "respond",
        status: 200,
        headers: {
          "Content-Type": "text/html; charset=utf-8",
          "Cache-Control": "no-store",
          "Referrer-Policy": "no-referrer",
        },
        location: null,
        error: null,
        visitor: null,
      });
      expect(result.kind === "respond" && result.body).toContain("<form");
      expect((await passes.get(visitor.uuid))?.uses).toBe(0);
      expect(session.data.size).toBe(0);
      // The middleware answers the same.
      expect(
        await flow.enter(visit(`/p?vuid=${visitor.uuid}`), session, ANONYMOUS, "test()"),
      ).toEqual(result);
    });
  });

  it("posts to a path on this site, whatever the request path", async () => {
    await withFlow({ confirm: true }, async (flow, passes) => {
      const visitor = await passes.create({ email: "a@example.org", scope: "S" });
      for (const [path, expected] of [
        ["//evil.example/p", "/evil.example/p"],
        ["/\\evil.example/p", "/evil.example/p"],
        ["/\t/evil.example/p", "/evil.example/p"],
        ["/p", "/p"],
      ]) {
        const result = await flow.recognise(visit(`${path}?vuid=${visitor.uuid}`), null, ANONYMOUS);
        expect(result).toMatchObject({ kind: "respond", status: 200 });
        const body = result.kind === "respond" ? String(result.body) : "";
        const action = /action="([^"]*)"/.exec(body)?.[1]?.replace(/&amp;/g, "&");
        expect(action).toBe(`${expected}?vuid=${visitor.uuid}&vuid-confirm=1`);
      }
    });
  });
});
