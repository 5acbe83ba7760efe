import { describe, expect, it, vi } from "vitest";
import { createVisitorPass } from "../index.js";
import { LinkOutbox, LinkSender, withOutbox } from "./link-outbox.js";
import type { LinkMessage } from "./send-link.js";
import type { Visitor } from "./visitor.js";
import { selfServiceOf } from "./visitor-pass.js";

const at = (n: number) => new Date(Date.UTC(2026, 11, 2, 10, 0, n));
const message = (n: number, reason: LinkMessage["reason"] = "selfService"): LinkMessage => ({
  visitor: { email: `v${n}@example.org` } as Visitor,
  url: `https://app.example/p?vuid=${n}`,
  reason,
});

describe("LinkOutbox", () => {
  it("keeps the newest `limit` links, newest first, with to, reason, url and time", () => {
    const outbox = new LinkOutbox(3);
    for (let n = 1; n <= 5; n++)
      outbox.record(message(n, n % 2 ? "selfService" : "freshLink"), at(n));
    expect(outbox.entries()).toEqual([
      {
        to: "v5@example.org",
        reason: "selfService",
        url: "https://app.example/p?vuid=5",
        at: at(5),
      },
      { to: "v4@example.org", reason: "freshLink", url: "https://app.example/p?vuid=4", at: at(4) },
      {
        to: "v3@example.org",
        reason: "selfService",
        url: "https://app.example/p?vuid=3",
        at: at(3),
      },
    ]);
  });

  it("hands out copies: changing them changes nothing kept", () => {
    const outbox = new LinkOutbox(2);
    outbox.record(message(1), at(1));
    const [first] = outbox.entries();
    first!.url = "https://evil.example/";
    expect(outbox.entries()[0]!.url).toBe("https://app.example/p?vuid=1");
  });
});

describe("withOutbox", () => {
  it("records every link, then calls the app's sendLink; records alone when there is none", async () => {
    const outbox = new LinkOutbox(10);
    const appSend = vi.fn();
    await withOutbox(appSend, outbox, () => at(0))!(message(1));
    expect(appSend).toHaveBeenCalledWith(message(1));
    await withOutbox(null, outbox, () => at(0))!(message(2));
    expect(outbox.entries().map((e) => e.to)).toEqual(["v2@example.org", "v1@example.org"]);
    expect(withOutbox(null, null, () => at(0))).toBeNull();
    expect(withOutbox(appSend, null, () => at(0))).toBe(appSend);
  });
});

describe("LinkSender", () => {
  it("sends on the next turn of the event loop, reports a rejection to the logger, and settles", async () => {
    const logger = { warn: vi.fn(), error: vi.fn() };
    const calls: string[] = [];
    const sender = new LinkSender(async (m) => {
      calls.push(m.url);
      throw new Error("SMTP down");
    }, logger);
    sender.send(message(1));
    // Not within the work that asked (its microtasks), where the response is still unwritten.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(calls).toEqual([]);
    await sender.settled();
    expect(calls).toEqual(["https://app.example/p?vuid=1"]);
    expect(logger.error).toHaveBeenCalledWith(
      "visitor-pass: sendLink (selfService) failed: Error: SMTP down",
    );
  });

  it("prepares a link off the request, sends what it builds, and reports a failed preparation", async () => {
    const logger = { warn: vi.fn(), error: vi.fn() };
    const calls: string[] = [];
    const sent: string[] = [];
    const sender = new LinkSender((m) => {
      calls.push(m.url);
    }, logger);
    let prepared = false;
    const prepare = async () => {
      prepared = true;
      return message(2, "freshLink");
    };
    sender.send({ prepare, failure: "could not prepare" }, (m) => sent.push(m.url));
    sender.send({ prepare: async () => null, failure: "could not prepare" }, (m) =>
      sent.push(m.url),
    );
    sender.send({
      prepare: async () => {
        throw new Error("store down");
      },
      failure: "could not prepare",
    });
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(prepared).toBe(false);
    await sender.settled();
    expect(calls).toEqual(["https://app.example/p?vuid=2"]);
    expect(sent).toEqual(["https://app.example/p?vuid=2"]);
    expect(logger.error.mock.calls).toEqual([
      ["visitor-pass: could not prepare: Error: store down"],
    ]);
  });
});

describe("the outbox option", () => {
  it("is on in development, off otherwise, and wraps config.sendLink", () => {
    const dev = createVisitorPass({
      database: "sqlite::memory:",
      env: { NODE_ENV: "development" },
    });
    expect(dev.config.outbox).toEqual({ limit: 100 });
    expect(dev.config.sendLink).toBeTypeOf("function");
    for (const NODE_ENV of ["production", "test", undefined]) {
      const other = createVisitorPass({ database: "sqlite::memory:", env: { NODE_ENV } });
      expect(other.config.outbox).toBeNull();
      expect(other.config.sendLink).toBeNull();
    }
    const forced = createVisitorPass({
      database: "sqlite::memory:",
      env: { NODE_ENV: "production" },
      outbox: { limit: 5 },
    });
    expect(forced.config.outbox).toEqual({ limit: 5 });
    const off = createVisitorPass({
      database: "sqlite::memory:",
      env: { NODE_ENV: "development" },
      outbox: false,
    });
    expect(off.config.outbox).toBeNull();
  });

  it("records what is handed to config.sendLink, for passes.sentLinks()", async () => {
    const passes = createVisitorPass({
      database: "sqlite::memory:",
      outbox: true,
      now: () => at(9),
    });
    await passes.config.sendLink!(message(1, "freshLink"));
    expect(passes.sentLinks()).toEqual([
      { to: "v1@example.org", reason: "freshLink", url: "https://app.example/p?vuid=1", at: at(9) },
    ]);
    expect(createVisitorPass({ database: "sqlite::memory:", env: {} }).sentLinks()).toEqual([]);
  });
});

describe("the self-service link", () => {
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it("is built on baseUrl and the stored path, and never points at another origin", async () => {
    const passes = createVisitorPass({
      database: "sqlite::memory:",
      env: {},
      outbox: true,
      baseUrl: "https://app.example",
    });
    await passes.migrate();
    const backend = selfServiceOf(passes, "test");
    const at = async (redirectTo: string | number) =>
      passes.create({
        email: "ginger@example.org",
        scope: "REFERENCE",
        context: { selfService: true, redirectTo },
      });
    const good = await at("/reference?topic=a");
    backend.sendLink(good);
    for (const hostile of ["//evil.example/x", "/\\evil.example/x", "https://evil.example/"]) {
      backend.sendLink(await at(hostile));
    }
    backend.sendLink(await at(42));
    await turn();
    await turn();
    const urls = passes.sentLinks().map((entry) => entry.url);
    expect(urls).toContain(`https://app.example/reference?topic=a&vuid=${good.uuid}`);
    for (const url of urls) expect(new URL(url).origin).toBe("https://app.example");
    // The hostile paths and the one that is no path fall back to the site's root.
    expect(urls.filter((url) => url.startsWith("https://app.example/?vuid="))).toHaveLength(4);
    await passes.close();
  });
});
