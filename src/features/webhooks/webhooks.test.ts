import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VisitorPassConfigError } from "../../core/errors.js";
import type { VisitorPass } from "../../core/visitor-pass.js";
import { createVisitorPass } from "../../create-visitor-pass.js";
import { retryAfterMs, sendWebhooks } from "./webhooks.js";

const SECRET = `whsec_${Buffer.from("a-test-secret-of-32-bytes-long!!").toString("base64")}`;

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

/** A receiver on 127.0.0.1 that answers each POST with the next of `answers` (then 204). */
async function receiver(
  answers: ((res: ServerResponse) => void)[] = [],
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const answer = answers.shift();
      if (answer) answer(res);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const status =
  (code: number, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    res.writeHead(code, headers).end("no");

/** Waits (bounded: at most `ms`) until `check` holds. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("sendWebhooks", () => {
  let passes: VisitorPass;
  let errors: string[];
  let warnings: string[];
  let closers: (() => Promise<void>)[];

  beforeEach(async () => {
    errors = [];
    warnings = [];
    closers = [];
    passes = createVisitorPass({
      database: "sqlite::memory:",
      logger: { warn: (line) => warnings.push(line), error: (line) => errors.push(line) },
    });
    await passes.migrate();
  });
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    await passes.close();
  });

  async function start(answers?: ((res: ServerResponse) => void)[]) {
    const server = await receiver(answers);
    closers.push(server.close);
    return server;
  }

  const ginger = () =>
    passes.create({ email: "ginger@example.org", firstName: "Ginger", scope: "REFERENCE" });

  it("POSTs a signed payload that a Standard Webhooks library verifies, without the token", async () => {
    const server = await start();
    const webhooks = sendWebhooks(passes, { url: server.url, secret: SECRET });
    closers.push(() => webhooks.close());
    const visitor = await ginger();
    await passes.deactivate(visitor.uuid);
    // Counted once the receiver's answer is in, a moment after it got the request.
    await until(() => webhooks.stats.delivered === 1);

    expect(server.received).toHaveLength(1);
    const [{ headers, body }] = server.received as [Received];
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["webhook-id"]).toMatch(/^msg_[0-9a-f-]{36}$/);
    expect(Number(headers["webhook-timestamp"])).toBeCloseTo(Date.now() / 1000, -1);
    const verified = new Webhook(SECRET).verify(body, headers as Record<string, string>);
    expect(verified).toMatchObject({
      type: "passDeactivated",
      data: { visitor: { id: visitor.id, email: "ginger@example.org", isActive: false } },
    });
    expect(body).not.toContain(visitor.uuid);
    expect(JSON.parse(body).timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);

    // A tampered body, or another secret, fails verification.
    expect(() =>
      new Webhook(SECRET).verify(body.replace("Ginger", "Fred"), headers as Record<string, string>),
    ).toThrow();
    const other = `whsec_${Buffer.from("another-secret-of-32-bytes-long!").toString("base64")}`;
    expect(() => new Webhook(other).verify(body, headers as Record<string, string>)).toThrow();
    expect(webhooks.stats).toEqual({ delivered: 1, failed: 0, dropped: 0 });
  });

  it("signs with a raw secret's own bytes; includes the token only when asked; only the events listed", async () => {
    const server = await start();
    const raw = "a-raw-secret-that-is-long-enough";
    const webhooks = sendWebhooks(passes, {
      url: server.url,
      secret: raw,
      events: ["visitorAdmitted"],
      includeToken: true,
    });
    closers.push(() => webhooks.close());
    const visitor = await ginger();
    await passes.deactivate(visitor.uuid); // not listed: not sent
    await passes.emit("visitorAdmitted", { visitor, spent: true });
    await until(() => server.received.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.received).toHaveLength(1);
    const [{ headers, body }] = server.received as [Received];
    const verified = new Webhook(Buffer.from(raw), { format: "raw" }).verify(
      body,
      headers as Record<string, string>,
    );
    expect(verified).toMatchObject({
      type: "visitorAdmitted",
      data: { spent: true, visitor: { id: visitor.id, uuid: visitor.uuid } },
    });
  });

  it("retries a 503, a 429 (honouring Retry-After) and a dropped connection, then succeeds, with one id", async () => {
    const server = await start([
      status(503),
      status(429, { "retry-after": "0" }),
      (res) => res.socket?.destroy(),
    ]);
    const webhooks = sendWebhooks(passes, {
      url: server.url,
      secret: SECRET,
      retries: 3,
      retryDelay: 10,
    });
    closers.push(() => webhooks.close());
    await passes.emit("visitorCleared", await ginger());
    await until(() => webhooks.stats.delivered === 1);
    expect(server.received).toHaveLength(4);
    const ids = new Set(server.received.map((r) => r.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    for (const { body, headers } of server.received) {
      expect(() =>
        new Webhook(SECRET).verify(body, headers as Record<string, string>),
      ).not.toThrow();
    }
    expect(errors).toEqual([]);
  });

  it("gives up after retries + 1 attempts, and a 4xx at once; the logger is told", async () => {
    const server = await start([status(500), status(500), status(500), status(400)]);
    const webhooks = sendWebhooks(passes, {
      url: server.url,
      secret: SECRET,
      retries: 2,
      retryDelay: 5,
    });
    closers.push(() => webhooks.close());
    const visitor = await ginger();
    await passes.emit("visitorCleared", visitor);
    await passes.emit("visitorCleared", visitor);
    await until(() => webhooks.stats.failed === 2);
    expect(server.received).toHaveLength(4);
    expect(errors[0]).toMatch(/given up after 3 attempts: answered 500/);
    expect(errors[1]).toMatch(/refused: answered 400/);
    expect(webhooks.stats).toEqual({ delivered: 0, failed: 2, dropped: 0 });
  });

  it("times out a receiver that never answers (AbortSignal.timeout), and retries", async () => {
    const server = await start([() => {}]);
    const webhooks = sendWebhooks(passes, {
      url: server.url,
      secret: SECRET,
      timeout: 250,
      retries: 3,
      retryDelay: 1,
    });
    closers.push(() => webhooks.close());
    await passes.emit("visitorCleared", await ginger());
    await until(() => webhooks.stats.delivered === 1);
    // The first attempt got no answer at all: only its timeout let the next one go.
    expect(server.received.length).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual([]);
  });

  it("bounds its queue: drops the oldest (or the newest) and tells the logger", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const server = await start([(res) => void held.then(() => res.writeHead(204).end())]);
    const webhooks = sendWebhooks(passes, { url: server.url, secret: SECRET, queueLimit: 2 });
    closers.push(() => webhooks.close());
    const visitor = await ginger();
    await passes.emit("visitorCleared", visitor); // being sent, held by the receiver
    await until(() => server.received.length === 1);
    for (const spent of [true, false, true])
      await passes.emit("visitorAdmitted", { visitor, spent });
    expect(webhooks.pending).toBe(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/queue is full \(2\): dropped the oldest event, "visitorAdmitted"/);
    release();
    await until(() => webhooks.stats.delivered === 3);
    const spents = server.received.slice(1).map((r) => JSON.parse(r.body).data.spent);
    expect(spents).toEqual([false, true]);
    expect(webhooks.stats.dropped).toBe(1);

    // drop: "newest" keeps what waits and drops the event arriving.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const bodies: string[] = [];
    const newest = sendWebhooks(passes, {
      url: server.url,
      secret: SECRET,
      queueLimit: 1,
      drop: "newest",
      events: ["visitorAdmitted"],
      fetch: async (_url, init) => {
        bodies.push(String(init?.body));
        await gate;
        return new Response(null, { status: 204 });
      },
    });
    closers.push(() => newest.close());
    for (const spent of [true, false, true])
      await passes.emit("visitorAdmitted", { visitor, spent });
    expect(newest.pending).toBe(2);
    expect(warnings.at(-1)).toMatch(/dropped the newest event/);
    open();
    await until(() => newest.stats.delivered === 2);
    expect(bodies.map((body) => JSON.parse(body).data.spent)).toEqual([true, false]);
    expect(newest.stats.dropped).toBe(1);
  });

  it("close() sends what is queued, stops listening, and is bounded by closeTimeout", async () => {
    const server = await start();
    const webhooks = sendWebhooks(passes, { url: server.url, secret: SECRET });
    const visitor = await ginger();
    for (let i = 0; i < 5; i++) await passes.emit("visitorCleared", visitor);
    await webhooks.close();
    expect(server.received).toHaveLength(5);
    expect(webhooks.pending).toBe(0);
    await passes.emit("visitorCleared", visitor);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(server.received).toHaveLength(5);

    // A receiver that keeps failing: close() gives up at its bound and says what it dropped.
    const failing = await start(Array.from({ length: 50 }, () => status(503)));
    const stuck = sendWebhooks(passes, {
      url: failing.url,
      secret: SECRET,
      retries: 20,
      retryDelay: 1000,
      closeTimeout: 150,
    });
    for (let i = 0; i < 3; i++) await passes.emit("visitorCleared", visitor);
    await until(() => failing.received.length >= 1);
    const started = Date.now();
    await stuck.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(stuck.stats.dropped).toBe(3);
    expect(errors.join("\n")).toMatch(/not sent before close/);
    expect(errors.join("\n")).toMatch(/closing with 2 events not sent/);
  });

  it("refuses bad options with a VisitorPassConfigError naming the option", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ url: "ftp://example.org/", secret: SECRET }, /"url"/],
      [{ url: "not a url", secret: SECRET }, /"url"/],
      [{ url: "https://user:pw@example.org/", secret: SECRET }, /"url"/],
      [{ url: "https://example.org/", secret: "short" }, /"secret".*at least 24 bytes/],
      [{ url: "https://example.org/", secret: "whsec_!!!" }, /"secret".*base64/],
      [{ url: "https://example.org/", secret: SECRET, retries: -1 }, /"retries"/],
      [{ url: "https://example.org/", secret: SECRET, queueLimit: 0 }, /"queueLimit"/],
      [{ url: "https://example.org/", secret: SECRET, events: [] }, /"events"/],
      [{ url: "https://example.org/", secret: SECRET, drop: "middle" }, /"drop"/],
      [{ url: "https://example.org/", secret: SECRET, timeout: 1.5 }, /"timeout"/],
    ];
    for (const [options, message] of cases) {
      expect(() => sendWebhooks(passes, options as never)).toThrow(VisitorPassConfigError);
      expect(() => sendWebhooks(passes, options as never)).toThrow(message);
    }
    expect(() =>
      sendWebhooks({} as never, { url: "https://example.org/", secret: SECRET }),
    ).toThrow(/createVisitorPass/);
  });

  it("reads Retry-After as seconds or a date, bounded", () => {
    expect(retryAfterMs(null, 60_000)).toBeNull();
    expect(retryAfterMs("2", 60_000)).toBe(2000);
    expect(retryAfterMs("99999", 60_000)).toBe(60_000);
    expect(retryAfterMs("soon", 60_000)).toBeNull();
    const date = new Date(Date.now() + 10_000).toUTCString();
    expect(retryAfterMs(date, 60_000)).toBeGreaterThan(8000);
    expect(retryAfterMs(new Date(0).toUTCString(), 60_000)).toBe(0);
  });
});
