import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MalformedVisitorToken,
  type Visitor,
  VisitorPassValidationError,
} from "../../src/index.js";
import { STORES } from "../support/databases.js";
import { openStorage, removeSqliteFiles, type Storage, UUID_V4, useStorage } from "./support.js";

afterAll(removeSqliteFiles);

/** Every field of a pass, as plain values that compare exactly (dates as epoch milliseconds). */
function fields(visitor: Visitor | null) {
  if (!visitor) return null;
  return {
    id: visitor.id,
    uuid: visitor.uuid,
    firstName: visitor.firstName,
    lastName: visitor.lastName,
    email: visitor.email,
    scope: visitor.scope,
    context: visitor.context,
    contextKeys: visitor.context === null ? null : JSON.stringify(visitor.context),
    createdAt: visitor.createdAt.getTime(),
    lastUpdatedAt: visitor.lastUpdatedAt.getTime(),
    expiresAt: visitor.expiresAt?.getTime() ?? null,
    isActive: visitor.isActive,
    sessionExpiry: visitor.sessionExpiry,
    maxUses: visitor.maxUses,
    uses: visitor.uses,
  };
}

const CONTEXT = {
  zeta: "first key stays first",
  alpha: { nested: [1, "two", { three: 3 }, null, true, false, []], empty: {} },
  "ünïcødé kéy": "日本語 — emoji 🎉🐘, quotes \" ' and a backslash \\",
  numbers: [0, -42, 1.5, 1e-7, 2 ** 53 - 1, -(2 ** 31)],
  nothing: null,
  yes: true,
  mid: "line\nbreak\ttab",
};

for (const database of STORES) {
  describe.skipIf(!database.url)(`passes on ${database.name}`, () => {
    const storage = useStorage(database, { tokenExpiry: 600, sessionExpiry: 120 });

    describe("create → get", () => {
      it("round-trips every field exactly", async () => {
        const { passes, clock } = storage;
        clock.set(new Date("2031-05-06T07:08:09.123Z"));
        const expiresAt = new Date("2031-05-07T08:09:10.987Z");
        const created = await passes.create({
          email: "Ada.Lovelace+pass@Example.org",
          scope: "REFERENCE_REQUEST",
          firstName: "Ada Zoë 🎉",
          lastName: "Lovelace-O'Brien",
          context: CONTEXT,
          expiresAt,
          sessionExpiry: 3600,
          maxUses: 7,
        });
        const found = await passes.get(created.uuid);

        expect(fields(found)).toEqual(fields(created));
        expect(found).toMatchObject({
          firstName: "Ada Zoë 🎉",
          lastName: "Lovelace-O'Brien",
          email: "Ada.Lovelace+pass@Example.org",
          scope: "REFERENCE_REQUEST",
          context: CONTEXT,
          isActive: true,
          sessionExpiry: 3600,
          maxUses: 7,
          uses: 0,
        });
        expect(Object.keys(found!.context!)).toEqual(Object.keys(CONTEXT));
        expect(JSON.stringify(found!.context)).toBe(JSON.stringify(CONTEXT));
        expect(found!.createdAt.getTime()).toBe(Date.parse("2031-05-06T07:08:09.123Z"));
        expect(found!.lastUpdatedAt.getTime()).toBe(Date.parse("2031-05-06T07:08:09.123Z"));
        expect(found!.expiresAt!.getTime()).toBe(expiresAt.getTime());
        expect(typeof found!.id).toBe("number");
        expect(Number.isInteger(found!.id)).toBe(true);
        expect(found!.uuid).toMatch(UUID_V4);
        for (const key of ["sessionExpiry", "maxUses", "uses"] as const) {
          expect(typeof found![key]).toBe("number");
        }
      });

      it("round-trips the nulls and the defaults", async () => {
        const { passes, clock } = storage;
        const now = clock.advance(1);
        const bare = await passes.create({ email: "bare@example.org", scope: "S" });
        const nulls = await passes.create({
          email: "nulls@example.org",
          scope: "S",
          context: null,
          expiresAt: null,
          sessionExpiry: null,
          maxUses: null,
        });

        const foundBare = await passes.get(bare.uuid);
        expect(fields(foundBare)).toEqual(fields(bare));
        expect(foundBare).toMatchObject({
          firstName: "",
          lastName: "",
          context: null,
          isActive: true,
          sessionExpiry: 120,
          maxUses: null,
          uses: 0,
        });
        expect(foundBare!.expiresAt!.getTime()).toBe(now.getTime() + 600_000);

        const foundNulls = await passes.get(nulls.uuid);
        expect(fields(foundNulls)).toEqual(fields(nulls));
        expect(foundNulls).toMatchObject({ context: null, expiresAt: null, sessionExpiry: null });
        expect(foundNulls!.maxUses).toBeNull();
        expect(foundNulls!.id).toBeGreaterThan(foundBare!.id);
      });

      it("keeps the longest values validation allows, in multi-byte characters", async () => {
        const { passes } = storage;
        const created = await passes.create({
          email: `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.org`,
          scope: `${"é".repeat(98)}🎟`,
          firstName: "ß".repeat(150),
          lastName: "名".repeat(150),
          context: { big: "x".repeat(100_000), wide: "🐘".repeat(20_000) },
        });
        expect(created.email).toHaveLength(254);
        const found = await passes.get(created.uuid);
        expect(fields(found)).toEqual(fields(created));
      });

      it("stores the uuid lower-case and finds it in any case", async () => {
        const { passes } = storage;
        const created = await passes.create({ email: "case@example.org", scope: "S" });
        expect(created.uuid).toBe(created.uuid.toLowerCase());
        expect((await passes.get(created.uuid.toUpperCase()))?.id).toBe(created.id);
      });

      it("get() of an unknown uuid is null; of a non-uuid throws", async () => {
        const { passes } = storage;
        expect(await passes.get(randomUUID())).toBeNull();
        await expect((async () => passes.get("not-a-uuid"))()).rejects.toBeInstanceOf(
          MalformedVisitorToken,
        );
      });

      it("refuses a second pass with the same uuid", async () => {
        const { passes, store } = storage;
        const created = await passes.create({ email: "dup@example.org", scope: "S" });
        const { id: _id, ...record } = (await store.findByUuid(created.uuid))!;
        await expect(store.insert({ ...record, email: "other@example.org" })).rejects.toThrow();
        expect((await passes.get(created.uuid))?.email).toBe("dup@example.org");
      });

      it("writes nothing for invalid input", async () => {
        const { passes } = storage;
        const before = (await passes.list({ scope: "INVALID", limit: 1000 })).length;
        await expect(
          passes.create({ email: "nope", scope: "INVALID" } as never),
        ).rejects.toBeInstanceOf(VisitorPassValidationError);
        expect(await passes.list({ scope: "INVALID" })).toHaveLength(before);
      });
    });

    describe("update, deactivate, reactivate", () => {
      it("deactivate turns the pass off and bumps lastUpdatedAt only", async () => {
        const { passes, clock } = storage;
        const created = await passes.create({ email: "off@example.org", scope: "S", maxUses: 2 });
        const later = clock.advance(5_000);
        const off = await passes.deactivate(created.uuid);
        expect(off?.isActive).toBe(false);
        expect(off?.lastUpdatedAt.getTime()).toBe(later.getTime());
        expect(fields(await passes.get(created.uuid))).toEqual({
          ...fields(created),
          isActive: false,
          lastUpdatedAt: later.getTime(),
        });
        // Again, with nothing left to change: still the pass, not "not found".
        expect(fields(await passes.deactivate(created.uuid))).toEqual(fields(off));
      });

      it("reactivate turns it on with expiresAt = now + tokenExpiry", async () => {
        const { passes, clock } = storage;
        const created = await passes.create({
          email: "on@example.org",
          scope: "S",
          expiresAt: new Date("2020-01-01T00:00:00.000Z"),
        });
        await passes.deactivate(created.uuid);
        const later = clock.advance(60_001);
        const on = await passes.reactivate(created.uuid);
        expect(on?.isActive).toBe(true);
        expect(on?.expiresAt?.getTime()).toBe(later.getTime() + 600_000);
        expect(on?.lastUpdatedAt.getTime()).toBe(later.getTime());
        expect(fields(await passes.get(created.uuid))).toEqual(fields(on));
        expect(on?.isValid).toBe(true);
      });

      it("deactivate and reactivate of an unknown uuid are null", async () => {
        const { passes } = storage;
        expect(await passes.deactivate(randomUUID())).toBeNull();
        expect(await passes.reactivate(randomUUID())).toBeNull();
      });

      it("the store's update() writes every changeable field and returns the result", async () => {
        const { passes, store, clock } = storage;
        const created = await passes.create({
          email: "change@example.org",
          scope: "S",
          context: { a: 1 },
          maxUses: 3,
          sessionExpiry: 10,
        });
        const at = clock.advance(1_234);
        const updated = await store.update(created.uuid, {
          firstName: "Grace",
          lastName: "Hopper",
          email: "grace@example.org",
          context: { z: [1, 2], a: { ü: "✓" } },
          expiresAt: null,
          isActive: false,
          sessionExpiry: null,
          maxUses: null,
          lastUpdatedAt: at,
        });
        expect(updated).toEqual(await store.findByUuid(created.uuid));
        expect(updated).toMatchObject({
          id: created.id,
          firstName: "Grace",
          lastName: "Hopper",
          email: "grace@example.org",
          context: { z: [1, 2], a: { ü: "✓" } },
          expiresAt: null,
          isActive: false,
          sessionExpiry: null,
          maxUses: null,
          uses: 0,
        });
        expect(Object.keys(updated!.context!)).toEqual(["z", "a"]);
        expect(updated!.lastUpdatedAt.getTime()).toBe(at.getTime());
        expect(updated!.createdAt.getTime()).toBe(created.createdAt.getTime());

        const cleared = await store.update(created.uuid, { context: null });
        expect(cleared?.context).toBeNull();
        expect(await store.update(created.uuid, {})).toEqual(cleared);
        expect(await store.update(randomUUID(), { isActive: true })).toBeNull();
        expect(await store.update(randomUUID(), {})).toBeNull();
      });
    });
  });

  describe.skipIf(!database.url)(`list on ${database.name}`, () => {
    let storage: Storage;
    /** Emails in the order the passes were created; ids grow in the same order. */
    const made: Visitor[] = [];

    beforeAll(async () => {
      storage = await openStorage(database);
      const { passes, clock } = storage;
      const make = async (input: Parameters<typeof passes.create>[0], step = 1000) => {
        clock.advance(step);
        made.push(await passes.create(input));
      };
      await make({ email: "ada@example.org", scope: "REF", firstName: "Ada", lastName: "Smith" });
      await make({
        email: "bob@example.org",
        scope: "ref",
        firstName: "Bob",
        lastName: "SMITHERS",
      });
      await make({ email: "cy@example.org", scope: "REF ", firstName: "Cy", lastName: "Jones" });
      // Same instant as the one before: the later id comes first.
      await make({ email: "di@example.org", scope: "OTHER", firstName: "Di", lastName: "Dee" }, 0);
      await make({ email: "pct@example.org", scope: "OTHER", firstName: "100% sure" });
      await make({ email: "pc@example.org", scope: "OTHER", firstName: "100 sure" });
      await make({ email: "und@example.org", scope: "OTHER", firstName: "a_b" });
      await make({ email: "axb@example.org", scope: "OTHER", firstName: "axb" });
      await make({ email: "bang@example.org", scope: "OTHER", lastName: "Hey!" });
      await make({ email: "bs@example.org", scope: "OTHER", lastName: "back\\slash" });
      await make({ email: "accent@example.org", scope: "OTHER", firstName: "Émile" });
      await make({ email: "plain@example.org", scope: "OTHER", firstName: "Emile" });
      await passes.deactivate(made[1]!.uuid);
      await passes.deactivate(made[4]!.uuid);
    });
    afterAll(async () => {
      await storage?.cleanup();
    });

    const emails = (visitors: Visitor[]) => visitors.map((v) => v.email);
    const newestFirst = () => emails([...made].reverse());

    it("lists newest first: createdAt desc, then id desc", async () => {
      const listed = await storage.passes.list();
      expect(emails(listed)).toEqual(newestFirst());
      // cy and di were created at the same instant: di, the later id, comes first.
      expect(listed.slice(-4).map((v) => v.email)).toEqual([
        "di@example.org",
        "cy@example.org",
        "bob@example.org",
        "ada@example.org",
      ]);
    });

    it("filters by exact scope: case and trailing spaces count", async () => {
      const { passes } = storage;
      expect(emails(await passes.list({ scope: "REF" }))).toEqual(["ada@example.org"]);
      expect(emails(await passes.list({ scope: "ref" }))).toEqual(["bob@example.org"]);
      expect(emails(await passes.list({ scope: "REF " }))).toEqual(["cy@example.org"]);
      expect(await passes.list({ scope: "re" })).toEqual([]);
    });

    it("filters by activity", async () => {
      const { passes } = storage;
      expect(emails(await passes.list({ active: false }))).toEqual([
        "pct@example.org",
        "bob@example.org",
      ]);
      const active = await passes.list({ active: true });
      expect(active).toHaveLength(made.length - 2);
      expect(active.every((v) => v.isActive)).toBe(true);
      expect(emails(await passes.list({ scope: "ref", active: true }))).toEqual([]);
    });

    it("searches names, email and scope, case-insensitively", async () => {
      const { passes } = storage;
      const search = async (text: string) => emails(await passes.list({ search: text }));
      expect(await search("smith")).toEqual(["bob@example.org", "ada@example.org"]);
      expect(await search("SMITHERS")).toEqual(["bob@example.org"]);
      expect(await search("BOB@EXAMPLE")).toEqual(["bob@example.org"]);
      expect(await search("oth")).toHaveLength(9);
      expect(await search("rEf")).toEqual(["cy@example.org", "bob@example.org", "ada@example.org"]);
      expect(await search("jones")).toEqual(["cy@example.org"]);
      expect(await search("nobody")).toEqual([]);
      expect(await passes.list({ search: "smith", scope: "REF" })).toHaveLength(1);
    });

    it("treats %, _, ! and \\ in the search text literally", async () => {
      const { passes } = storage;
      const search = async (text: string) => emails(await passes.list({ search: text }));
      expect(await search("100%")).toEqual(["pct@example.org"]);
      expect(await search("0% s")).toEqual(["pct@example.org"]);
      expect(await search("a_b")).toEqual(["und@example.org"]);
      expect(await search("_")).toEqual(["und@example.org"]);
      expect(await search("%")).toEqual(["pct@example.org"]);
      expect(await search("!")).toEqual(["bang@example.org"]);
      expect(await search("y!")).toEqual(["bang@example.org"]);
      expect(await search("k\\s")).toEqual(["bs@example.org"]);
      expect(await search("!%")).toEqual([]);
    });

    it("matches accented letters exactly, in any case", async () => {
      const { passes } = storage;
      const search = async (text: string) => emails(await passes.list({ search: text }));
      expect(await search("ÉMILE")).toEqual(["accent@example.org"]);
      expect(await search("émile")).toEqual(["accent@example.org"]);
      expect(await search("EMILE")).toEqual(["plain@example.org"]);
    });

    it("pages with limit and offset", async () => {
      const { passes } = storage;
      const all = newestFirst();
      expect(emails(await passes.list({ limit: 2 }))).toEqual(all.slice(0, 2));
      expect(emails(await passes.list({ limit: 3, offset: 2 }))).toEqual(all.slice(2, 5));
      expect(emails(await passes.list({ limit: 1000, offset: all.length - 1 }))).toEqual(
        all.slice(-1),
      );
      expect(await passes.list({ offset: all.length })).toEqual([]);
    });

    it("throws VisitorPassValidationError for bad filter values", async () => {
      const { passes } = storage;
      const bad: unknown[] = [
        { limit: 0 },
        { limit: 1001 },
        { limit: 1.5 },
        { limit: "10" },
        { offset: -1 },
        { active: "yes" },
        { scope: 5 },
        { search: "x".repeat(201) },
      ];
      for (const filter of bad) {
        await expect(passes.list(filter as never), JSON.stringify(filter)).rejects.toBeInstanceOf(
          VisitorPassValidationError,
        );
      }
    });
  });
}
