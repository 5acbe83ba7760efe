// Sending the pass service's events to another service as signed webhooks, and that service
// checking them with the standardwebhooks package before trusting a byte.
import type { Server } from "node:http";
import express, { type Express } from "express";
import { Webhook } from "standardwebhooks";
import {
  closeGracefully,
  sendWebhooks,
  type VisitorPass,
  type WebhookPayload,
  type WebhookSender,
} from "visitor-pass";

/** In the app: every self-service request and deactivation, POSTed to `url`. */
export function startWebhooks(passes: VisitorPass, url: string, secret: string): WebhookSender {
  return sendWebhooks(passes, {
    url,
    secret, // whsec_<base64>, e.g. "whsec_" + base64 of 32 random bytes; shared with the receiver
    events: ["selfServiceVisitorCreated", "passDeactivated", "passFlaggedShared"],
    retries: 5, // on network errors, timeouts, 5xx and 429 (Retry-After honoured)
    queueLimit: 1000, // then the oldest waiting event is dropped, and the logger told
  });
}

/** On shutdown: requests finish, the queued webhooks go out (5 s at most), then the store. */
export function shutdown(server: Server, passes: VisitorPass, webhooks: WebhookSender) {
  return closeGracefully(server, {
    close: async () => {
      await webhooks.close();
      await passes.close();
    },
  });
}

/** In the receiving service: verify the signature on the raw body, then act on the event. */
export function createReceiver(secret: string, onEvent: (event: WebhookPayload) => void): Express {
  const verifier = new Webhook(secret);
  const app = express();
  app.post("/hooks/visitor-pass", express.text({ type: "application/json" }), (req, res) => {
    let event: WebhookPayload;
    try {
      event = verifier.verify(req.body, req.headers as Record<string, string>) as WebhookPayload;
    } catch {
      res.status(400).send("Bad signature");
      return;
    }
    // A retry repeats its event's `webhook-id`: to act once, keep the ids already handled.
    onEvent(event);
    res.status(204).end();
  });
  return app;
}
