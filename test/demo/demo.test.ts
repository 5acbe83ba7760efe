import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import makeFetchCookie from "fetch-cookie";
import { CookieJar } from "tough-cookie";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDemoApp } from "../../examples/express-demo/app.js";
import { createVisitorPass, type VisitorPass } from "../../src/index.js";

/** The express demo, walked through a real server by two people, each with their own cookies. */

let passes: VisitorPass;
let server: Server;
let base: string;

beforeAll(async () => {
  passes = createVisitorPass({ database: "sqlite::memory:", env: {} });
  await passes.migrate();
  const app = createDemoApp({ passes, sessionSecret: "demo test secret" });
  server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(0, "127.0.0.1", (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await passes?.close();
});

interface Page {
  status: number;
  html: string;
  /** The visible text, tags removed, entities decoded, whitespace collapsed. */
  text: string;
}

const entities: Record<string, string> = {
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#39;": "'",
  "&amp;": "&",
};

function textOf(html: string): string {
  return html
    .replace(/<head>[\s\S]*<\/head>/, "")
    .replace(/<[^>]*>/g, " ")
    .replace(/&(lt|gt|quot|#39|amp);/g, (entity) => entities[entity] ?? entity)
    .replace(/\s+/g, " ")
    .trim();
}

/** A person with a browser: a cookie jar, redirects followed, form posts as a browser sends them. */
function person() {
  const fetchWithCookies = makeFetchCookie(fetch, new CookieJar());
  async function open(url: string, init: RequestInit = {}): Promise<Page> {
    const response = await fetchWithCookies(new URL(url, base), { redirect: "follow", ...init });
    const html = await response.text();
    return { status: response.status, html, text: textOf(html) };
  }
  return {
    get: (url: string) => open(url),
    post: (url: string, form: Record<string, string>) =>
      open(url, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: base,
          "sec-fetch-site": "same-origin",
        },
        body: new URLSearchParams(form).toString(),
      }),
  };
}

function visitsShown(page: Page): number {
  const match = /<td class="number">(\d+)<\/td>/.exec(page.html);
  if (!match) throw new Error("no visit count on the page");
  return Number(match[1]);
}

describe("express demo", () => {
  it("walks the reference story: Fred asks, Ginger answers as a visitor, then is let go", async () => {
    const fred = person();
    const ginger = person();

    // Fred arrives anonymous and signs in.
    let page = await fred.get("/");
    expect(page.status).toBe(200);
    expect(page.text).toContain("Anonymous: not signed in, not visiting");
    page = await fred.post("/sign-in", {});
    expect(page.status).toBe(200);
    expect(page.text).toContain("Signed in as Fred");
    expect(page.text).toContain("Hello, Fred");
    expect(page.text).toContain("You have not asked anyone yet.");

    // A bad request form: errors beside the fields, input kept, nothing created.
    page = await fred.post("/ask", { name: "", email: "not-an-email", message: "Please?" });
    expect(page.status).toBe(422);
    expect(page.text).toContain("Enter their name.");
    expect(page.text).toContain("Enter a valid email address.");
    expect(page.html).toContain('value="not-an-email"');
    expect(page.html).toMatch(/<textarea[^>]*name="message"[^>]*>Please\?<\/textarea>/);
    expect(await passes.list()).toHaveLength(0);

    // Fred asks Ginger.
    const message = "Could you vouch for my <foxtrot>?";
    page = await fred.post("/ask", {
      name: "Ginger Rogers",
      email: "ginger@example.com",
      message,
    });
    expect(page.status).toBe(200);
    expect(page.text).toContain("Your request is on its way to Ginger Rogers");
    expect(page.text).toContain("Pending");
    expect(visitsShown(page)).toBe(0);

    const [pass] = await passes.list({ scope: "REFERENCE_REQUEST" });
    expect(pass).toBeDefined();
    expect(pass!.firstName).toBe("Ginger");
    expect(pass!.lastName).toBe("Rogers");
    expect(pass!.context).toEqual({ requestedBy: "fred", message });
    const sevenDays = 7 * 24 * 60 * 60 * 1000;
    expect(pass!.expiresAt!.getTime() - Date.now()).toBeGreaterThan(sevenDays - 60_000);
    expect(pass!.expiresAt!.getTime() - Date.now()).toBeLessThanOrEqual(sevenDays);

    // Ginger, not yet a visitor, is refused; then she reads her email in the outbox.
    page = await ginger.get("/reference");
    expect(page.status).toBe(403);
    expect(page.text).toContain("This page is for invited visitors");

    page = await ginger.get("/outbox");
    expect(page.text).toContain("To Ginger Rogers <ginger@example.com>");
    expect(page.text).toContain("Subject Fred asks you for a reference");
    expect(page.text).toContain(message);
    expect(page.html).not.toContain("<foxtrot>");
    const link = /<a href="([^"]+)"/.exec(page.html.slice(page.html.indexOf('class="email-link"')));
    expect(link?.[1]).toBe(`${base}/reference?vuid=${pass!.uuid}`);

    // Step 1: she follows the link and sees who asked and why.
    page = await ginger.get(link![1]!);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Visiting as Ginger Rogers · scope REFERENCE_REQUEST");
    expect(page.text).toContain("A reference for Fred");
    expect(page.text).toContain(message);
    expect(page.html).not.toContain("<foxtrot>");

    // The session keeps her a visitor without the token, on any page.
    page = await ginger.get("/");
    expect(page.text).toContain("Visiting as Ginger Rogers · scope REFERENCE_REQUEST");
    expect(page.text).toContain("Welcome, Ginger");
    page = await ginger.get("/reference");
    expect(page.status).toBe(200);

    // Step 2: an empty reference is refused, a real one shown for review, and can be changed.
    page = await ginger.post("/reference", { text: "  " });
    expect(page.status).toBe(422);
    expect(page.text).toContain("Write your reference.");
    const reference = "Fred leads like a dream & never steps on toes. <3";
    page = await ginger.post("/reference", { text: reference });
    expect(page.status).toBe(200);
    expect(page.text).toContain("Check your reference");
    expect(page.text).toContain(reference);
    page = await ginger.post("/reference", { text: reference, action: "edit" });
    expect(page.status).toBe(200);
    expect(page.text).toContain("A reference for Fred");
    expect(page.html).toContain("never steps on toes. &lt;3</textarea>");

    // Step 3: she sends it; her visit ends on that very page.
    page = await ginger.post("/reference/submit", { text: reference });
    expect(page.status).toBe(200);
    expect(page.text).toContain("Thank you, Ginger");
    expect(page.text).toContain("Anonymous: not signed in, not visiting");
    expect(page.text).not.toContain("Visiting as");

    // After that, the guarded pages refuse her, and so does her link.
    for (const again of [
      () => ginger.get("/reference"),
      () => ginger.post("/reference", { text: "More!" }),
      () => ginger.post("/reference/submit", { text: "More!" }),
      () => ginger.get(link![1]!),
    ]) {
      page = await again();
      expect(page.status).toBe(403);
      expect(page.text).toContain("This page is for invited visitors");
    }
    expect((await passes.get(pass!.uuid))?.isActive).toBe(false);

    // Fred sees her reference, the request received, and her visits.
    page = await fred.get("/");
    expect(page.text).toContain("References you received");
    expect(page.text).toContain(reference);
    expect(page.text).toContain("Ginger Rogers <ginger@example.com>");
    expect(page.text).toContain("Received");
    expect(page.text).not.toContain("Pending");
    const logs = await passes.logs(pass!.uuid);
    expect(logs.length).toBeGreaterThanOrEqual(6);
    expect(visitsShown(page)).toBe(logs.length);
  });

  it("tells a signed-in user that a link for someone else is ignored", async () => {
    const fred = person();
    await fred.post("/sign-in", {});
    const page = await fred.get("/reference");
    expect(page.status).toBe(403);
    expect(page.text).toContain("You are signed in as Fred");
  });

  it("keeps Fred's pages to Fred", async () => {
    const stranger = person();
    let page = await stranger.get("/ask");
    expect(page.status).toBe(401);
    expect(page.text).toContain("Only Fred can ask for references.");
    page = await stranger.post("/ask", { name: "X", email: "x@example.com", message: "Hi" });
    expect(page.status).toBe(401);
  });

  it("renders error pages without internals", async () => {
    const stranger = person();
    const pages = [
      [await stranger.get("/reference"), 403],
      [await stranger.get("/?vuid=not-a-token"), 400],
      [await stranger.get("/no/such/page"), 404],
    ] as const;
    for (const [page, status] of pages) {
      expect(page.status).toBe(status);
      expect(page.html).toContain("<!doctype html>");
      expect(page.html).not.toMatch(/node_modules|\bat \S+ \(|VisitorAccessDenied|stack/i);
    }
    expect(pages[1][0].text).toContain("Malformed visitor token.");
  });

  it("answers an internal failure with a plain 500 page, the details only in the server log", async () => {
    // Tables never created: Fred's home page cannot list his requests.
    const broken = createVisitorPass({ database: "sqlite::memory:", env: {} });
    const app = createDemoApp({ passes: broken });
    const other = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(0, "127.0.0.1", (error?: Error) =>
        error ? reject(error) : resolve(listening),
      );
    });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const fetchWithCookies = makeFetchCookie(fetch, new CookieJar());
      await fetchWithCookies(`${url}/sign-in`, { method: "POST" });
      const response = await fetchWithCookies(`${url}/`);
      const html = await response.text();
      expect(response.status).toBe(500);
      expect(textOf(html)).toContain("Something went wrong");
      expect(html).not.toMatch(/no such table|\bat \S+ \(|stack/i);
      expect(logged).toHaveBeenCalled();
    } finally {
      logged.mockRestore();
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
      await broken.close();
    }
  });
});
