// docs/recipes/webhooks.md: the recipe's sender and receiver (examples/recipes/webhooks.ts), on
// 127.0.0.1.
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReceiver, shutdown, startWebhooks } from "../../examples/recipes/webhooks.js";
import { createVisitorPass, type VisitorPass, type WebhookPayload } from "../../src/index.js";
import { type Listening, listen } from "./support.js";

const SECRET = `whsec_${Buffer.from("recipe-secret-of-thirty-two-byte").toString("base64")}`;

describe("recipe: webhooks", () => {
  let receiver: Listening;
  const events: WebhookPayload[] = [];

  beforeAll(async () => {
    receiver = await listen(createReceiver(SECRET, (event) => events.push(event)));
  });
  afterAll(() => receiver.close());

  it("the receiver gets each listed event, verified, and shutdown sends what is queued", async () => {
    const passes: VisitorPass = createVisitorPass({ database: "sqlite::memory:" });
    await passes.migrate();
    const webhooks = startWebhooks(passes, `${receiver.url}/hooks/visitor-pass`, SECRET);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

    const visitor = await passes.create({ email: "ginger@example.org", scope: "REFERENCE" });
    await passes.deactivate(visitor.uuid);
    await passes.emit("visitorCleared", visitor); // not listed: not sent
    await passes.deactivate((await passes.create({ email: "fred@example.org", scope: "R" })).uuid);
    await shutdown(server, passes, webhooks);

    expect(events.map((event) => [event.type, event.data.visitor])).toEqual([
      ["passDeactivated", expect.objectContaining({ id: visitor.id, email: "ginger@example.org" })],
      ["passDeactivated", expect.objectContaining({ email: "fred@example.org" })],
    ]);
    expect(JSON.stringify(events)).not.toContain(visitor.uuid);
    expect(webhooks.stats).toEqual({ delivered: 2, failed: 0, dropped: 0 });
  });

  it("the receiver refuses a body whose signature does not match", async () => {
    const body = JSON.stringify({ type: "passDeactivated", timestamp: "", data: {} });
    const other = new Webhook(`whsec_${Buffer.from("x".repeat(32)).toString("base64")}`);
    const id = "msg_forged";
    const now = new Date();
    const response = await fetch(`${receiver.url}/hooks/visitor-pass`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": other.sign(id, now, body),
      },
      body,
    });
    expect(response.status).toBe(400);
    expect(events.some((event) => event.timestamp === "")).toBe(false);
  });
});
