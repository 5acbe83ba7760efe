import { describe, expect, it } from "vitest";
import { Visitor } from "../core/visitor.js";
import {
  details,
  formatDate,
  formatDuration,
  logTable,
  relative,
  table,
  visitorDetails,
  visitorStatus,
} from "./format.js";

const now = new Date("2026-03-01T12:00:00Z");

function visitor(overrides: Partial<ConstructorParameters<typeof Visitor>[0]> = {}): Visitor {
  return new Visitor(
    {
      id: 7,
      uuid: "0b6f5b8e-4b8a-4c47-9d3e-5f7a0f0e9c11",
      firstName: "Ginger",
      lastName: "Rogers",
      email: "ginger@x.org",
      scope: "REFERENCE_REQUEST",
      context: { requestedBy: "fred", nested: { a: [1, 2] } },
      createdAt: new Date("2026-03-01T11:00:00Z"),
      lastUpdatedAt: new Date("2026-03-01T11:30:00Z"),
      expiresAt: new Date("2026-03-08T12:00:00Z"),
      isActive: true,
      sessionExpiry: 0,
      maxUses: 3,
      uses: 1,
      ...overrides,
    },
    () => now,
  );
}

describe("table", () => {
  it("pads columns, capitalises headers and trims line ends", () => {
    expect(
      table(
        ["name", "n"],
        [
          ["a", "1"],
          ["longer", "22"],
        ],
      ),
    ).toBe("NAME    N\na       1\nlonger  22\n");
  });

  it("cuts the last column to fit a width", () => {
    const out = table(["a", "agent"], [["x", "Mozilla/5.0 (X11; Linux x86_64)"]], { maxWidth: 12 });
    for (const line of out.trimEnd().split("\n")) expect([...line].length).toBeLessThanOrEqual(12);
    expect(out).toBe("A  AGENT\nx  Mozilla/…\n");
  });

  it("never lets control characters through", () => {
    expect(table(["ua"], [["evil\u001b[2J\nagent"]])).toBe("UA\nevil [2J agent\n");
  });
});

describe("dates and durations", () => {
  it("formats dates in UTC to the second", () => {
    expect(formatDate(new Date("2026-03-01T12:34:56.789Z"))).toBe("2026-03-01 12:34:56Z");
    expect(formatDate(null, "never")).toBe("never");
  });

  it("formats durations with their two largest units", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(45)).toBe("45s");
    expect(formatDuration(7 * 86_400)).toBe("7d");
    expect(formatDuration(2 * 3600 + 5 * 60 + 3)).toBe("2h 5m");
    expect(relative(new Date(now.getTime() + 300_000), now)).toBe("in 5m");
    expect(relative(new Date(now.getTime() - 3_600_000), now)).toBe("1h ago");
  });
});

describe("visitors", () => {
  it("has one word for each state", () => {
    expect(visitorStatus(visitor())).toBe("active");
    expect(visitorStatus(visitor({ isActive: false }))).toBe("inactive");
    expect(visitorStatus(visitor({ expiresAt: new Date("2026-01-01T00:00:00Z") }))).toBe("expired");
    expect(visitorStatus(visitor({ uses: 3 }))).toBe("used up");
    // A completed form's pass, turned off, is as inactive as any other.
    expect(visitorStatus(visitor({ isActive: false, context: { selfService: true } }))).toBe(
      "inactive",
    );
    expect(
      visitorStatus(visitor({ isActive: false, email: "", context: { selfService: true } })),
    ).toBe("pending");
  });

  it("shows every field and the context pretty-printed", () => {
    const out = visitorDetails(visitor(), now, "https://app.example/r?vuid=x");
    for (const label of [
      "uuid",
      "id",
      "status",
      "first name",
      "last name",
      "email",
      "scope",
      "created",
      "last updated",
      "expires",
      "active",
      "expired",
      "valid",
      "self-service",
      "session expiry",
      "uses",
      "context",
      "link",
    ]) {
      expect(out).toMatch(new RegExp(`^${label} +\\S`, "m"));
    }
    expect(out).toContain("2026-03-08 12:00:00Z (in 7d)");
    expect(out).toContain("1 of 3");
    expect(out).toContain('context         {\n                  "requestedBy": "fred",');
  });

  it("aligns a details block", () => {
    expect(
      details([
        ["a", "1"],
        ["long", "2\n3"],
      ]),
    ).toBe("a     1\nlong  2\n      3\n");
  });

  it("tables logs with the query string and placeholders", () => {
    const out = logTable([
      {
        id: 1,
        visitorId: 7,
        sessionKey: null,
        httpMethod: "GET",
        requestUri: "/reference",
        queryString: "a=1",
        httpUserAgent: null,
        httpReferer: null,
        remoteAddr: null,
        statusCode: null,
        timestamp: now,
      },
    ]);
    expect(out).toBe(
      "TIME                  METHOD  PATH            STATUS  ADDRESS  USER AGENT\n" +
        "2026-03-01 12:00:00Z  GET     /reference?a=1  -       -        -\n",
    );
  });
});
