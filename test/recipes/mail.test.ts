// docs/recipes/mail.md: examples/recipes/mail.ts's app, its mail through nodemailer's JSON
// transport (nothing is sent): completing the self-service form emails Ginger a link on
// baseUrl, in the text and beside the HTML button; the link admits her; in development the
// admin's Outbox page lists it, and in production that page is not there.
import nodemailer from "nodemailer";
import { afterAll, describe, expect, it } from "vitest";
import { createApp, createPasses } from "../../examples/recipes/mail.js";
import type { VisitorPass } from "../../src/index.js";
import { Client } from "../behaviour/client.js";
import { type Listening, listen, pathOf } from "./support.js";

const BASE = "https://app.example";
const STAFF = "staff-key-for-the-test";

interface JsonMail {
  from: { address: string; name: string };
  to: { address: string }[];
  subject: string;
  text: string;
  html: string;
}

async function start(NODE_ENV: string) {
  const transporter = nodemailer.createTransport({ jsonTransport: true });
  const mails: JsonMail[] = [];
  const transport = {
    sendMail: async (mail: Parameters<typeof transporter.sendMail>[0]) => {
      const info = await transporter.sendMail(mail);
      mails.push(JSON.parse(String(info.message)));
      return info;
    },
  };
  const passes = createPasses({
    baseUrl: BASE,
    transport,
    database: "sqlite::memory:",
    env: { NODE_ENV },
  });
  await passes.migrate();
  const app = await listen(createApp(passes, "s".repeat(32), STAFF));
  return { passes, app, mails };
}

/** Waits (bounded) for the mail, which is sent after the form's answer. */
async function mailOf(mails: JsonMail[]): Promise<JsonMail> {
  for (let i = 0; i < 100 && mails.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(mails).toHaveLength(1);
  return mails[0]!;
}

async function signUp(app: Listening): Promise<Client> {
  const ginger = new Client(app.url, { redirect: "manual" });
  const start = await ginger.get("/early-access");
  expect(start.status).toBe(302);
  const form = start.headers.get("location")!;
  expect((await ginger.get(form)).status).toBe(200);
  const sent = await ginger.post(form, {
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "sec-fetch-site": "same-origin",
      origin: app.url,
    },
    body: new URLSearchParams({
      firstName: "Ginger",
      lastName: "Rogers",
      email: "ginger@example.org",
    }).toString(),
  });
  expect(sent.status).toBe(303);
  return ginger;
}

describe("recipe: mail and the development outbox", () => {
  const opened: { passes: VisitorPass; app: Listening }[] = [];
  afterAll(async () => {
    for (const { passes, app } of opened) {
      await app.close();
      await passes.close();
    }
  });

  it("emails the self-service link on baseUrl, which admits her, and lists it in the Outbox", async () => {
    const { passes, app, mails } = await start("development");
    opened.push({ passes, app });
    const ginger = await signUp(app);
    const mail = await mailOf(mails);
    expect(mail.to).toEqual([{ address: "ginger@example.org", name: "" }]);
    expect(mail.from).toEqual({ address: "early@app.example", name: "Early access" });
    expect(mail.subject).toBe("Your early access, Ginger");
    const link = /https:\/\/app\.example\/early-access\?vuid=[0-9a-f-]{36}/.exec(mail.text)?.[0];
    expect(link).toBeDefined();
    expect(mail.html).toContain(`href="${link}"`);
    expect(mail.html.replace(/<[^>]+>/g, " ")).toContain(link);

    const landing = await ginger.get(pathOf(link!));
    expect(landing.status).toBe(302);
    const page = await ginger.get("/early-access");
    expect(page.status).toBe(200);
    expect(await page.text()).toBe("Welcome, ginger@example.org.");

    const staff = new Client(app.url);
    const outbox = await staff.get("/admin/visitors/outbox", { headers: { "x-staff": STAFF } });
    expect(outbox.status).toBe(200);
    expect(await outbox.text()).toContain(`>${link}</a>`);
    const stranger = await new Client(app.url).get("/admin/visitors/outbox");
    expect(stranger.status).toBe(403);
  });

  it("in production still mails the link, and has no Outbox page", async () => {
    const { passes, app, mails } = await start("production");
    opened.push({ passes, app });
    await signUp(app);
    expect((await mailOf(mails)).text).toContain(`${BASE}/early-access?vuid=`);
    expect(passes.sentLinks()).toEqual([]);
    const outbox = await new Client(app.url).get("/admin/visitors/outbox", {
      headers: { "x-staff": STAFF },
    });
    expect(outbox.status).toBe(404);
  });
});
