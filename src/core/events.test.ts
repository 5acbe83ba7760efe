import { describe, expect, it } from "vitest";
import { PassEvents } from "./events.js";
import type { NewVisitorLog } from "./ports.js";
import { DEFAULT_SHARING_THRESHOLDS, type SharingCounts } from "./sharing.js";
import { SharingWatch } from "./sharing-watch.js";
import { Visitor } from "./visitor.js";

function logger() {
  const errors: string[] = [];
  return { errors, warn: () => {}, error: (line: string) => errors.push(line) };
}

const visitor = new Visitor({
  id: 7,
  uuid: "7a0c3e2e-52b4-4a59-8f7e-3f0f2f6d1c11",
  firstName: "Vera",
  lastName: "Visit",
  email: "vera@example.org",
  scope: "S",
  context: null,
  createdAt: new Date(0),
  lastUpdatedAt: new Date(0),
  expiresAt: null,
  isActive: true,
  sessionExpiry: 0,
  maxUses: null,
  uses: 0,
});

describe("PassEvents", () => {
  it("fire calls the handlers after the caller's work, never inside it", async () => {
    const events = new PassEvents(logger());
    const seen: string[] = [];
    events.on("visitorCleared", (v) => {
      seen.push(v.uuid);
    });
    events.fire("visitorCleared", visitor);
    seen.push("caller");
    await events.settled();
    expect(seen).toEqual(["caller", visitor.uuid]);
  });

  it("a handler that throws or rejects is reported; the others run; a throwing logger is survived", async () => {
    const log = logger();
    const events = new PassEvents(log);
    const seen: string[] = [];
    events.on("passDeactivated", () => {
      throw new TypeError("boom");
    });
    events.on("passDeactivated", () => Promise.reject("refused"));
    events.on("passDeactivated", () => {
      seen.push("ran");
    });
    events.fire("passDeactivated", visitor);
    await events.settled();
    expect(seen).toEqual(["ran"]);
    expect(log.errors).toEqual([
      'visitor-pass: a "passDeactivated" handler failed: TypeError: boom',
      'visitor-pass: a "passDeactivated" handler failed: refused',
    ]);

    const throwing = new PassEvents({
      warn: () => {},
      error: () => {
        throw new Error("logger down");
      },
    });
    throwing.on("passDeactivated", () => {
      throw new Error("boom");
    });
    throwing.fire("passDeactivated", visitor);
    await expect(throwing.settled()).resolves.toBeUndefined();
  });

  it("off and the returned function unsubscribe; has() tells whether anyone listens", async () => {
    const events = new PassEvents(logger());
    const seen: boolean[] = [];
    const handler = ({ spent }: { spent: boolean }) => {
      seen.push(spent);
    };
    expect(events.has("visitorAdmitted")).toBe(false);
    const off = events.on("visitorAdmitted", handler);
    expect(events.has("visitorAdmitted")).toBe(true);
    events.fire("visitorAdmitted", { visitor, spent: true });
    await events.settled();
    off();
    events.fire("visitorAdmitted", { visitor, spent: false });
    events.on("visitorAdmitted", handler);
    events.off("visitorAdmitted", handler);
    events.fire("visitorAdmitted", { visitor, spent: false });
    await events.settled();
    expect(seen).toEqual([true]);
    expect(() => events.on("visitorAdmitted", "nope" as never)).toThrow(TypeError);
  });
});

describe("SharingWatch", () => {
  const counts = (sessions: number): SharingCounts => ({
    visits: sessions,
    sessions,
    networks: 1,
    browsers: 1,
    withoutSession: 0,
    byCrawlers: 0,
    firstVisit: null,
    lastVisit: null,
  });
  const visit = (sessionKey: string): NewVisitorLog => ({
    visitorId: visitor.id,
    sessionKey,
    httpMethod: "GET",
    requestUri: "/",
    queryString: "",
    httpUserAgent: null,
    httpReferer: null,
    remoteAddr: null,
    statusCode: 200,
    timestamp: new Date(0),
    clientNetwork: "203.0.113.0",
    browserFamily: "Firefox",
  });

  it("reads no counts without a handler, nor for visits that bring nothing new", async () => {
    let sessions = 0;
    let reads = 0;
    const events = new PassEvents(logger());
    const watch = new SharingWatch(
      {
        sharingCounts: async () => {
          reads += 1;
          return counts(sessions);
        },
      },
      DEFAULT_SHARING_THRESHOLDS,
      events,
      async () => visitor,
    );
    const write = (logs: NewVisitorLog[], after: number) =>
      watch.around(logs, async () => {
        sessions = after;
      });
    await write([visit("s1")], 1);
    expect(reads).toBe(0);

    const flagged: string[][] = [];
    events.on("passFlaggedShared", ({ signals }) => {
      flagged.push(signals.reasons);
    });
    await write([visit("s1"), visit("s2")], 2);
    expect(reads).toBe(2);
    await write([visit("s1"), visit("s2")], 2);
    expect(reads).toBe(2);
    await write([visit("s3")], 3);
    await events.settled();
    expect(flagged).toEqual([["3 sessions (more than 2)"]]);
    const before = reads;
    await write([visit("s4")], 4);
    expect(reads).toBe(before);
    expect(flagged).toHaveLength(1);
  });
});
