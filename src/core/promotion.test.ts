import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createVisitorPass,
  MalformedVisitorToken,
  UnclaimedRequestError,
  type VisitorPass,
} from "../index.js";
import { MemoryStore } from "../store/memory/memory-store.js";
import { logCursor, parsePromote, parseSearchLogs } from "./promotion.js";

describe("parsePromote", () => {
  it("keeps a user id exactly as given", () => {
    expect(parsePromote({ userId: " 42 " })).toEqual({ userId: " 42 " });
    expect(parsePromote({ userId: "x".repeat(255) }).userId).toHaveLength(255);
  });

  it.each([
    [undefined, "Give { userId }"],
    ["42", "Give { userId }"],
    [{}, "A user id is required."],
    [{ userId: "" }, "A user id is required."],
    [{ userId: "   " }, "A user id is required."],
    [{ userId: 42 }, "The user id must be text."],
    [{ userId: "x".repeat(256) }, "At most 255 characters."],
    [{ userId: "a\u0000b" }, "Must not contain control characters."],
    [{ userId: "a\u001b[31m" }, "Must not contain control characters."],
  ])("refuses %j", (input, message) => {
    expect(() => parsePromote(input)).toThrow(message);
  });

  it("refuses unknown fields", () => {
    expect(() => parsePromote({ userId: "1", admin: true })).toThrow(/admin/);
  });
});

describe("parseSearchLogs", () => {
  it("defaults to 50 and decodes the cursor it makes", () => {
    expect(parseSearchLogs(undefined)).toEqual({ limit: 50 });
    const cursor = logCursor({ timestamp: new Date(1_700_000_000_123), id: 77 });
    expect(parseSearchLogs({ before: cursor }).before).toEqual({
      timestamp: new Date(1_700_000_000_123),
      id: 77,
    });
  });

  it.each(["", "abc", "1-", "-1", "1-0", "1-99999999999", "1.5-2", "1-2-3"])(
    "refuses the cursor %j",
    (before) => {
      expect(() => parseSearchLogs({ before })).toThrow("Must be the next of a previous page.");
    },
  );
});

describe("passes.promote", () => {
  const T0 = new Date("2025-03-01T10:00:00.000Z");
  let passes: VisitorPass;
  let logged: string[];

  beforeEach(async () => {
    logged = [];
    passes = createVisitorPass({
      env: {},
      database: "sqlite::memory:",
      now: () => T0,
      logger: { error: (m: string) => logged.push(m), warn: () => {}, info: () => {} } as never,
    });
    await passes.migrate();
  });
  afterEach(() => passes.close());

  it("checks the token before anything else, and writes nothing for a bad user id", async () => {
    await expect(passes.promote("not-a-token", { userId: "1" })).rejects.toBeInstanceOf(
      MalformedVisitorToken,
    );
    const pass = await passes.create({ email: "a@example.org", scope: "S" });
    await expect(passes.promote(pass.uuid, { userId: "" })).rejects.toMatchObject({
      code: "VISITOR_PASS_VALIDATION",
      fieldErrors: { userId: ["A user id is required."] },
    });
    expect((await passes.get(pass.uuid))?.isValid).toBe(true);
  });

  it("returns null for an unknown pass", async () => {
    expect(
      await passes.promote("0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b", { userId: "1" }),
    ).toBeNull();
  });

  it("fires visitorPromoted once, and a failing handler fails nothing", async () => {
    const seen: string[] = [];
    passes.on("visitorPromoted", ({ visitor, userId }) => {
      seen.push(`${visitor.email}:${userId}:${visitor.isActive}`);
    });
    passes.on("visitorPromoted", () => {
      throw new Error("boom");
    });
    const pass = await passes.create({ email: "a@example.org", scope: "S" });
    const promoted = await passes.promote(pass.uuid, { userId: "u1" });
    expect(promoted).toMatchObject({ promotedTo: "u1", promotedAt: T0, isActive: false });
    await passes.promote(pass.uuid, { userId: "u1" });
    await passes.flush();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toEqual(["a@example.org:u1:false"]);
    expect(logged).toEqual(['visitor-pass: a "visitorPromoted" handler failed: Error: boom']);
  });

  it("names the pass by its token or, with tokenStorage hash, by the digest list() shows", async () => {
    const hashed = createVisitorPass({
      env: {},
      database: "sqlite::memory:",
      tokenStorage: "hash",
    });
    await hashed.migrate();
    try {
      const a = await hashed.create({ email: "a@example.org", scope: "S" });
      const b = await hashed.create({ email: "b@example.org", scope: "S" });
      expect((await hashed.promote(a.uuid, { userId: "u-a" }))?.promotedTo).toBe("u-a");
      const [listedB] = await hashed.list({ search: "b@example.org" });
      expect(listedB!.uuid).not.toBe(b.uuid);
      expect((await hashed.promote(listedB!.uuid, { userId: "u-b" }))?.promotedTo).toBe("u-b");
      expect((await hashed.get(b.uuid))?.isPromoted).toBe(true);
    } finally {
      await hashed.close();
    }
  });

  it("refuses a self-service request whose form was never completed, changing nothing", async () => {
    const store = new MemoryStore();
    const own = createVisitorPass({ env: {}, store });
    try {
      const uuid = "9d0c6a4e-2b7f-4c1d-8e3a-5f6b7c8d9e0f";
      await store.insert({
        uuid,
        firstName: "",
        lastName: "",
        email: "",
        scope: "S",
        context: { selfService: true, redirectTo: "/early" },
        createdAt: T0,
        lastUpdatedAt: T0,
        expiresAt: null,
        isActive: false,
        sessionExpiry: 0,
        maxUses: null,
        uses: 0,
      });
      const refused = await own.promote(uuid, { userId: "u1" }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(UnclaimedRequestError);
      expect((refused as Error).message).toContain("no visitor to promote");
      expect((await own.get(uuid))?.promotedTo).toBeNull();
    } finally {
      await own.close();
    }
  });

  it("a promoted pass does not validate, and says why", async () => {
    const pass = await passes.create({ email: "a@example.org", scope: "S" });
    const promoted = await passes.promote(pass.uuid, { userId: "u1" });
    expect(() => promoted?.validate()).toThrow("promoted to an account");
  });
});
