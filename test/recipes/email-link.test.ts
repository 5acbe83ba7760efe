// docs/recipes/email-link.md: the message examples/recipes/email-link.ts composes, through
// nodemailer's JSON transport (nothing is sent), carries the tokenised URL in its text and its
// HTML, and that URL admits Ginger on the one-time-link recipe's app.
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendLink } from "../../examples/recipes/email-link.js";
import { createApp } from "../../examples/recipes/one-time-link.js";
import { createVisitorPass, type VisitorPass } from "../../src/index.js";
import { Client } from "../behaviour/client.js";
import { type Listening, listen, pathOf } from "./support.js";

interface JsonMessage {
  from: { address: string };
  to: { name: string; address: string }[];
  subject: string;
  text: string;
  html: string;
}

describe("recipe: sending the link by email", () => {
  let passes: VisitorPass;
  let app: Listening;
  const mailer = nodemailer.createTransport({ jsonTransport: true });

  beforeAll(async () => {
    passes = createVisitorPass({ database: "sqlite::memory:", env: {} });
    await passes.migrate();
    app = await listen(createApp(passes, "m".repeat(32)));
  });
  afterAll(async () => {
    await app.close();
    await passes.close();
  });

  it("puts the tokenised URL in the text and the HTML, and the URL admits her", async () => {
    const visitor = await passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      lastName: "Rogers",
      scope: "REFERENCE_REQUEST",
    });
    const info = await sendLink(mailer, passes, visitor, `${app.url}/reference?from=mail`);
    const message = JSON.parse(info.message as string) as JsonMessage;
    const link = `${app.url}/reference?from=mail&vuid=${visitor.uuid}`;

    expect(message.to).toEqual([{ name: "Ginger Rogers", address: "ginger@example.org" }]);
    expect(message.text.split("\n")).toContain(link); // on a line of its own
    expect(message.html).toContain(`href="${link.replace("&", "&#38;")}"`);
    const hrefs = [...message.html.matchAll(/href="([^"]+)"/g)].map(([, href]) =>
      href!.replace(/&#38;/g, "&"),
    );
    expect(hrefs).toEqual([link]);
    // Beside the button, the address itself, for a client that shows no HTML links.
    expect(message.html.replace(/<[^>]+>/g, " ")).toContain(link.replace("&", "&#38;"));
    expect(message.text).toContain(visitor.expiresAt!.toUTCString());

    const ginger = new Client(app.url);
    const page = await ginger.get(pathOf(link));
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${app.url}/reference?from=mail`);
    expect(await page.text()).toContain("Hello Ginger");
  });

  it("escapes what the visitor typed in the HTML", async () => {
    const visitor = await passes.create({
      email: "mallory@example.org",
      firstName: "<b>Mallory</b>",
      scope: "REFERENCE_REQUEST",
    });
    const info = await sendLink(mailer, passes, visitor, `${app.url}/reference`);
    const message = JSON.parse(info.message as string) as JsonMessage;
    expect(message.html).not.toContain("<b>Mallory");
    expect(message.html).toContain("&#60;b&#62;Mallory");
  });
});
