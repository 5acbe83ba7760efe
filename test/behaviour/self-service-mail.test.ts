import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { LinkMessage, Visitor } from "../../src/index.js";
import { DATABASES } from "../support/databases.js";
import type { Client } from "./client.js";
import { HARNESSES } from "./harness.js";
import { SELF_SERVICE_PATH } from "./routes.js";
import { useApp } from "./support.js";

const FORM = new RegExp(`^${SELF_SERVICE_PATH}/self-service/([0-9a-f-]{36})$`);
const GINGER = { firstName: "Ginger", lastName: "Rogers", email: "ginger@example.org" };
/** The origin links are built on: not the address the test server listens at. */
const BASE = "https://app.example";
const SQLITE = DATABASES.find((database) => database.name === "sqlite")!;

async function completeForm(client: Client, path = "/apply?topic=reference"): Promise<Response> {
  const start = await client.get(path, { redirect: "manual" });
  await start.arrayBuffer();
  const form = start.headers.get("location") ?? "";
  expect(form).toMatch(FORM);
  return client.post(form, {
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "sec-fetch-site": "same-origin",
      origin: client.baseUrl,
    },
    body: new URLSearchParams(GINGER).toString(),
  });
}

/** Waits (bounded) until `check` holds: a link is sent after the response. */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

/** A completed self-service form sends its link through `sendLink`, in every adapter. */
describe.each(HARNESSES.map((h) => [h.name, h] as const))(
  "self-service mail: %s",
  (_name, harness) => {
    describe("with sendLink and baseUrl", () => {
      const messages: LinkMessage[] = [];
      const created: Visitor[] = [];
      let fail: Error | null = null;
      const logger = { warn: vi.fn(), error: vi.fn() };
      const ctx = useApp(harness, SQLITE, {
        baseUrl: BASE,
        logger,
        sendLink: async (message) => {
          messages.push(message);
          if (fail) throw fail;
        },
      });
      beforeAll(() => {
        ctx.passes.on("selfServiceVisitorCreated", (visitor) => {
          created.push(visitor);
        });
      });
      afterEach(() => {
        messages.length = 0;
        created.length = 0;
        fail = null;
        logger.warn.mockClear();
        logger.error.mockClear();
      });

      it("sends the visitor an absolute link on baseUrl to the page wanted, which admits her", async () => {
        const ginger = ctx.client("manual");
        const sent = await completeForm(ginger);
        await sent.arrayBuffer();
        expect(sent.status).toBe(303);
        await eventually(() => messages.length === 1);
        const [message] = messages;
        expect(message!.reason).toBe("selfService");
        expect(message!.visitor).toMatchObject({ ...GINGER, isActive: true });
        const url = new URL(message!.url);
        expect(url.origin).toBe(BASE);
        expect(`${url.pathname}${url.search}`).toBe(
          ctx.passes.tokenise("/apply?topic=reference", message!.visitor),
        );
        // The event is as it was: fired once, with the same pass.
        await eventually(() => created.length === 1);
        expect(created[0]!.uuid).toBe(message!.visitor.uuid);

        const landing = await ginger.get(`${url.pathname}${url.search}`);
        await landing.arrayBuffer();
        expect(landing.status).toBe(302);
        expect(await ginger.json("/apply?topic=reference")).toMatchObject({
          status: 200,
          body: { visitor: message!.visitor.uuid, isVisitor: true },
        });
      });

      it("a failed send changes nothing in the answer and goes to the logger", async () => {
        fail = new Error("SMTP down");
        const sent = await completeForm(ctx.client("manual"));
        await sent.arrayBuffer();
        expect(sent.status).toBe(303);
        await eventually(() => logger.error.mock.calls.length === 1);
        expect(String(logger.error.mock.calls[0]![0])).toMatch(
          /sendLink \(selfService\).*SMTP down/,
        );
      });
    });

    describe("with sendLink but no baseUrl", () => {
      const sendLink = vi.fn();
      const logger = { warn: vi.fn(), error: vi.fn() };
      const ctx = useApp(harness, SQLITE, { sendLink, logger, env: {} });

      it("sends nothing (no link is built on the request's Host) and says which option is missing", async () => {
        const sent = await completeForm(ctx.client("manual"));
        await sent.arrayBuffer();
        expect(sent.status).toBe(303);
        await eventually(() => logger.warn.mock.calls.length === 1);
        expect(String(logger.warn.mock.calls[0]![0])).toMatch(/baseUrl/);
        expect(sendLink).not.toHaveBeenCalled();
      });
    });
  },
);
