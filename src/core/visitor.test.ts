import { describe, expect, it } from "vitest";
import { InvalidVisitorPass, Visitor, VisitorPassError } from "../index.js";
import type { VisitorRecord } from "./visitor.js";

const T0 = new Date("2025-03-01T10:00:00.000Z");

function record(changes: Partial<VisitorRecord> = {}): VisitorRecord {
  return {
    id: 7,
    uuid: "0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
    firstName: "Ada",
    lastName: "Lovelace",
    email: "ada@example.org",
    scope: "REFERENCE_REQUEST",
    context: { caseId: 12 },
    createdAt: T0,
    lastUpdatedAt: T0,
    expiresAt: new Date(T0.getTime() + 300_000),
    isActive: true,
    sessionExpiry: 0,
    maxUses: null,
    uses: 0,
    ...changes,
  };
}

/** A visitor whose clock reads `at`. */
function visitorAt(at: Date | number, changes: Partial<VisitorRecord> = {}): Visitor {
  return new Visitor(record(changes), () => new Date(at));
}

function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return "no error";
}

describe("fullName", () => {
  it.each([
    ["Ada", "Lovelace", "Ada Lovelace"],
    ["Ada", "", "Ada"],
    ["", "Lovelace", "Lovelace"],
    ["", "", ""],
    ["  Ada ", " Lovelace  ", "Ada   Lovelace"],
  ])("%j + %j → %j", (firstName, lastName, fullName) => {
    expect(visitorAt(T0, { firstName, lastName }).fullName).toBe(fullName);
  });
});

describe("hasExpired / isValid", () => {
  const expiresAt = new Date(T0.getTime() + 300_000);

  it("is valid one millisecond before expiresAt", () => {
    const visitor = visitorAt(expiresAt.getTime() - 1, { expiresAt });
    expect(visitor.hasExpired).toBe(false);
    expect(visitor.isValid).toBe(true);
  });

  it("has expired at expiresAt exactly, and after it", () => {
    for (const at of [expiresAt.getTime(), expiresAt.getTime() + 1, expiresAt.getTime() + 1e9]) {
      const visitor = visitorAt(at, { expiresAt });
      expect(visitor.hasExpired).toBe(true);
      expect(visitor.isValid).toBe(false);
    }
  });

  it("follows the clock as it moves", () => {
    let now = T0.getTime();
    const visitor = new Visitor(record({ expiresAt }), () => new Date(now));
    expect(visitor.isValid).toBe(true);
    now = expiresAt.getTime();
    expect(visitor.hasExpired).toBe(true);
    expect(visitor.isValid).toBe(false);
  });

  it("never expires when expiresAt is null", () => {
    const visitor = visitorAt(new Date("2999-12-31T00:00:00Z"), { expiresAt: null });
    expect(visitor.hasExpired).toBe(false);
    expect(visitor.isValid).toBe(true);
  });

  it("is not valid when inactive, even before expiry", () => {
    const visitor = visitorAt(T0, { isActive: false });
    expect(visitor.hasExpired).toBe(false);
    expect(visitor.isValid).toBe(false);
  });

  it("uses the real clock when none is given", () => {
    const past = new Visitor(record({ expiresAt: new Date(Date.now() - 1000) }));
    const future = new Visitor(record({ expiresAt: new Date(Date.now() + 60_000) }));
    expect(past.hasExpired).toBe(true);
    expect(future.hasExpired).toBe(false);
  });
});

describe("isSelfService", () => {
  it.each<[Record<string, unknown> | null, boolean]>([
    [{ selfService: true, redirectTo: "/reference" }, true],
    [{ selfService: true }, true],
    [{ selfService: "true" }, false],
    [{ selfService: 1 }, false],
    [{ selfService: false }, false],
    [{ other: true }, false],
    [null, false],
  ])("context %j → %s", (context, expected) => {
    expect(visitorAt(T0, { context }).isSelfService).toBe(expected);
  });
});

describe("isUnclaimedRequest", () => {
  const request = { email: "", isActive: false, context: { selfService: true, redirectTo: "/x" } };

  it("is a self-service request with no email: its form was never completed", () => {
    expect(visitorAt(T0, request).isUnclaimedRequest).toBe(true);
    // Even if something switched it on: it still has no one to reach.
    expect(visitorAt(T0, { ...request, isActive: true }).isUnclaimedRequest).toBe(true);
  });

  it("is not a completed form's pass, on or off, nor a pass the app made", () => {
    const claimed = { ...request, email: "fred@example.org", isActive: true };
    expect(visitorAt(T0, claimed).isUnclaimedRequest).toBe(false);
    expect(visitorAt(T0, { ...claimed, isActive: false }).isUnclaimedRequest).toBe(false);
    expect(visitorAt(T0, { isActive: false }).isUnclaimedRequest).toBe(false);
  });

  it("never validates, even switched on", () => {
    const error = thrown(() => visitorAt(T0, { ...request, isActive: true }).validate());
    expect(error).toBeInstanceOf(InvalidVisitorPass);
    expect(error).toMatchObject({ reason: "inactive" });
    expect((error as Error).message).toMatch(/never completed/);
  });
});

describe("validate()", () => {
  it("returns quietly for a valid pass", () => {
    expect(visitorAt(T0).validate()).toBeUndefined();
  });

  it("throws InvalidVisitorPass with reason 'inactive' for an inactive pass", () => {
    const error = thrown(() => visitorAt(T0, { isActive: false }).validate());
    expect(error).toBeInstanceOf(InvalidVisitorPass);
    expect(error).toBeInstanceOf(VisitorPassError);
    expect(error).toMatchObject({
      reason: "inactive",
      code: "INVALID_VISITOR_PASS",
      message: "Visitor pass is no longer active.",
      name: "InvalidVisitorPass",
    });
  });

  it("throws InvalidVisitorPass with reason 'expired' once the link expired", () => {
    const expiresAt = new Date(T0.getTime() + 1000);
    const error = thrown(() => visitorAt(expiresAt, { expiresAt }).validate());
    expect(error).toBeInstanceOf(InvalidVisitorPass);
    expect(error).toMatchObject({ reason: "expired", message: "Visitor pass has expired." });
  });

  it("says 'inactive' first when the pass is both inactive and expired", () => {
    const expiresAt = new Date(T0.getTime() + 1000);
    const error = thrown(() => visitorAt(expiresAt, { expiresAt, isActive: false }).validate());
    expect(error).toMatchObject({ reason: "inactive" });
  });

  it("says 'used-up' for a pass whose link has no uses left", () => {
    const error = thrown(() => visitorAt(T0, { expiresAt: null, maxUses: 1, uses: 1 }).validate());
    expect(error).toBeInstanceOf(InvalidVisitorPass);
    expect(error).toMatchObject({ reason: "used-up" });
  });
});

describe("serialize()", () => {
  it("is JSON-safe: a JSON round trip gives the same object", () => {
    const serialized = visitorAt(T0).serialize();
    expect(JSON.parse(JSON.stringify(serialized))).toEqual(serialized);
  });

  it("carries ISO dates, the derived fields and every stored field", () => {
    const visitor = visitorAt(T0, { maxUses: 3, uses: 1, sessionExpiry: null });
    expect(visitor.serialize()).toEqual({
      id: 7,
      uuid: "0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
      firstName: "Ada",
      lastName: "Lovelace",
      fullName: "Ada Lovelace",
      email: "ada@example.org",
      scope: "REFERENCE_REQUEST",
      context: { caseId: 12 },
      createdAt: "2025-03-01T10:00:00.000Z",
      lastUpdatedAt: "2025-03-01T10:00:00.000Z",
      expiresAt: "2025-03-01T10:05:00.000Z",
      isActive: true,
      sessionExpiry: null,
      maxUses: 3,
      uses: 1,
      freshLinks: false,
      hasExpired: false,
      isValid: true,
      isSelfService: false,
      promotedTo: null,
      promotedAt: null,
    });
  });

  it("carries the promotion, which makes the pass invalid", () => {
    const at = new Date(T0.getTime() - 1000);
    const visitor = visitorAt(T0, { promotedTo: "user <1>", promotedAt: at, isActive: false });
    expect(visitor.isPromoted).toBe(true);
    expect(visitor.isValid).toBe(false);
    expect(visitor.serialize()).toMatchObject({
      promotedTo: "user <1>",
      promotedAt: at.toISOString(),
      isValid: false,
    });
    expect(visitorAt(T0, { promotedTo: "u", promotedAt: at }).isValid).toBe(false);
    expect(visitorAt(T0).isPromoted).toBe(false);
  });

  it("gives expiresAt null for a pass that never expires", () => {
    expect(visitorAt(T0, { expiresAt: null }).serialize().expiresAt).toBeNull();
  });

  it("is what JSON.stringify(visitor) writes", () => {
    const visitor = visitorAt(T0);
    expect(JSON.parse(JSON.stringify(visitor))).toEqual(visitor.serialize());
  });
});
