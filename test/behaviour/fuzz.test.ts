import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Visitor } from "../../src/index.js";
import { HARNESSES } from "./harness.js";
import { click, newPass, SQLITE, useApp, uses, whoami } from "./support.js";

const RUNS = 100;
const TIME_LIMIT = 12_000;

const hex = fc.constantFrom(..."0123456789abcdefABCDEF");
const percentJunk = fc.oneof(
  fc.constantFrom("%C3%28", "%E0%A4%A", "%FF%FE", "%", "%%", "%zz", "%0", "%00", "%2", "%C0%AF"),
  fc.tuple(hex, hex).map(([a, b]) => `%${a}${b}`),
);
const keys = fc.constantFrom(
  "vuid",
  "vuid[]",
  "vuid[0]",
  "vuid[a]",
  "%76uid",
  "VUID",
  "vuid%5B%5D",
  "v uid",
  "x",
  "",
);

/** Values that are not the real token: junk, unknown uuids, near misses of the real one. */
function values(real: string): fc.Arbitrary<string> {
  const nearMiss = fc.integer({ min: 0, max: real.length - 1 }).chain((index) =>
    fc.oneof(
      // One character changed: another uuid (unknown) or not a uuid at all.
      fc
        .constantFrom(..."0123456789abcdefxyz-_ ")
        .filter((char) => char !== real[index])
        .map((char) => `${real.slice(0, index)}${char}${real.slice(index + 1)}`),
      fc.constant(real.slice(0, index)),
      fc.constantFrom(`${real}0`, `${real}%00`, ` ${real}`, `{${real}}`, `${real};`),
    ),
  );
  return fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.array(percentJunk, { maxLength: 8 }).map((parts) => parts.join("")),
    fc.string({ minLength: 1000, maxLength: 10_000 }),
    fc.constant(randomUUID()),
    fc.uuid().map((uuid) => uuid.toUpperCase()),
    nearMiss,
  );
}

function queries(real: string): fc.Arbitrary<string> {
  const part = fc.oneof(
    fc.tuple(keys, values(real)).map(([key, value]) => `${key}=${value}`),
    keys,
    percentJunk,
    fc.string({ maxLength: 20 }),
  );
  return fc
    .array(part, { minLength: 1, maxLength: 6 })
    .chain((parts) => fc.constantFrom(parts.join("&"), parts.join(";"), parts.join("&&")))
    .filter((query) => query.length <= 11_000);
}

/** Property-based checks of the HTTP surface; no storage involved beyond lookups, so SQLite. */
describe.each(HARNESSES)("fuzzed requests: $name", (harness) => {
  const ctx = useApp(harness, SQLITE);

  it("arbitrary query strings never give a 5xx and never admit without the valid token", async () => {
    const visitor: Visitor = await newPass(ctx.passes);
    await fc.assert(
      fc.asyncProperty(queries(visitor.uuid), async (query) => {
        const client = ctx.client("manual");
        const response = await client.get(`/reference?${query}`);
        await response.arrayBuffer();
        expect(response.status).toBeLessThan(500);
        expect([400, 403, 414, 431]).toContain(response.status);
        expect(await client.cookie(ctx.app.sessionCookie)).toBeUndefined();
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT },
    );
    expect(await uses(ctx.passes, visitor.uuid)).toBe(0);
  }, 30_000);

  it("random session cookies never give a 5xx and never admit", async () => {
    const cookieValue = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc
        .tuple(fc.string({ maxLength: 60 }), fc.string({ maxLength: 60 }))
        .map(([id, signature]) => `s:${id}.${signature}`),
      fc
        .tuple(fc.string({ maxLength: 60 }), fc.string({ maxLength: 60 }))
        .map(([id, signature]) => encodeURIComponent(`s:${id}.${signature}`)),
    );
    await fc.assert(
      fc.asyncProperty(cookieValue, async (value) => {
        const cookie = `${ctx.app.sessionCookie}=${value}`;
        const guarded = await fetch(`${ctx.app.url}/reference`, { headers: { cookie } });
        await guarded.arrayBuffer();
        expect(guarded.status).toBe(403);
        const who = await fetch(`${ctx.app.url}/whoami`, { headers: { cookie } });
        expect(who.status).toBe(200);
        expect(await who.json()).toEqual({ visitor: null, isVisitor: false });
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT },
    );
  }, 30_000);

  it("a tampered copy of an admitted session's cookie never admits", async () => {
    const visitor = await newPass(ctx.passes);
    const vera = ctx.client();
    await click(vera, ctx.passes, visitor);
    expect(await whoami(vera)).toEqual({ visitor: visitor.uuid, isVisitor: true });
    const genuine = decodeURIComponent((await vera.cookie(ctx.app.sessionCookie))!);

    const tampered = fc
      .tuple(
        fc.integer({ min: 0, max: genuine.length - 1 }),
        fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=-_.:"),
      )
      .filter(([index, char]) => genuine[index] !== char)
      .map(([index, char]) => `${genuine.slice(0, index)}${char}${genuine.slice(index + 1)}`);
    await fc.assert(
      fc.asyncProperty(tampered, async (value) => {
        const cookie = `${ctx.app.sessionCookie}=${encodeURIComponent(value)}`;
        const guarded = await fetch(`${ctx.app.url}/reference`, { headers: { cookie } });
        await guarded.arrayBuffer();
        expect(guarded.status).toBe(403);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT },
    );
    // Control: the genuine cookie, sent the same way, is still admitted.
    const cookie = `${ctx.app.sessionCookie}=${encodeURIComponent(genuine)}`;
    const guarded = await fetch(`${ctx.app.url}/reference`, { headers: { cookie } });
    expect(guarded.status).toBe(200);
  }, 30_000);
});
