import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import makeFetchCookie from "fetch-cookie";
import { CookieJar } from "tough-cookie";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDemoApp } from "../../examples/express-demo/app.js";
import { formatDate } from "../../examples/express-demo/dates.js";
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
  /** Where a redirect points (only when not following redirects). */
  location: string | null;
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

/**
 * A person with a browser: a cookie jar, form posts as a browser sends them, redirects followed
 * unless `{ follow: false }` (then the page is the redirect itself, with its `location`).
 */
function person() {
  const fetchWithCookies = makeFetchCookie(fetch, new CookieJar());
  async function open(url: string, init: RequestInit = {}): Promise<Page> {
    const response = await fetchWithCookies(new URL(url, base), { redirect: "follow", ...init });
    const html = await response.text();
    const location = response.headers.get("location");
    return { status: response.status, location, html, text: textOf(html) };
  }
  const redirect = (follow: boolean): RequestRedirect => (follow ? "follow" : "manual");
  return {
    get: (url: string, { follow = true } = {}) => open(url, { redirect: redirect(follow) }),
    post: (url: string, form: Record<string, string>, { follow = true } = {}) =>
      open(url, {
        method: "POST",
        redirect: redirect(follow),
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: base,
          "sec-fetch-site": "same-origin",
        },
        body: new URLSearchParams(form).toString(),
      }),
  };
}

interface Email {
  to: string;
  subject: string;
  link: string;
}

/** The emails an outbox page shows, newest first. */
function emailsIn(page: Page): Email[] {
  return page.html
    .split('<article class="email">')
    .slice(1)
    .map((article) => {
      const head = (name: string) =>
        textOf(new RegExp(`<dt>${name}</dt>\\s*<dd>([\\s\\S]*?)</dd>`).exec(article)?.[1] ?? "");
      const link = /<p class="email-link"><a href="([^"]+)"/.exec(article)?.[1] ?? "";
      return { to: head("To"), subject: head("Subject"), link: link.replaceAll("&amp;", "&") };
    });
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

    // Step 3: she sends it, redirected (so Back or a reload never sends the form again) to a
    // thank-you page; her visit ends there.
    page = await ginger.post("/reference/submit", { text: reference }, { follow: false });
    expect(page.status).toBe(303);
    expect(page.location).toBe("/reference/thanks");
    page = await ginger.get(page.location!);
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

  it("lets a stranger ask for early access on the self-service form, then in by the emailed link", async () => {
    const frankie = person();

    // Home links to the early-access page; without a pass it sends her to the form.
    let page = await frankie.get("/");
    expect(page.html).toContain('href="/early-access"');
    expect(page.text).toContain("Dance-floor early access");
    page = await frankie.get("/early-access", { follow: false });
    expect(page.status).toBe(302);
    const form = page.location!;
    expect(form).toMatch(/^\/visitors\/self-service\/[0-9a-f-]{36}$/);
    const pendingUuid = form.split("/").pop()!;
    let [pass] = await passes.list({ scope: "EARLY_ACCESS" });
    expect(pass).toMatchObject({ uuid: pendingUuid, isActive: false });
    expect(pass!.context).toEqual({ selfService: true, redirectTo: "/early-access" });

    page = await frankie.get(form);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Request access");
    // The demo's header and a way back, on the form as on the page after it.
    expect(page.html).toContain('<a class="brand" href="/">visitor-pass demo</a>');
    expect(page.html).toContain('<a href="/">← Back to the demo</a>');
    expect(page.html).toMatch(/<form method="post"/);

    // Invalid: no first name, markup in the last name, an example.com address. The form comes
    // back with the errors and her input, escaped; nothing is sent.
    page = await frankie.post(form, {
      firstName: "  ",
      lastName: '<b>"Manning"</b>',
      email: "frankie@example.com",
    });
    expect(page.status).toBe(200);
    expect(page.text).toContain("Please correct the fields marked below.");
    expect(page.text).toContain("Enter your first name.");
    expect(page.text).toContain("addresses at example.com cannot receive the link");
    expect(page.html).toContain('value="&lt;b&gt;&quot;Manning&quot;&lt;/b&gt;"');
    expect(page.html).not.toContain("<b>");
    expect(page.html).toContain('value="frankie@example.com"');
    expect(page.html).toMatch(/id="firstName"[^>]*aria-invalid="true"/);
    expect((await passes.get(pendingUuid))?.isActive).toBe(false);
    expect(emailsIn(await frankie.get("/outbox")).map((email) => email.to)).not.toContainEqual(
      expect.stringContaining("frankie"),
    );

    // Valid: the pass is filled in and activated under a new token, and she is told to look
    // for the email.
    page = await frankie.post(
      form,
      { firstName: "Frankie", lastName: "Manning", email: "frankie@savoy.example.org" },
      { follow: false },
    );
    expect(page.status).toBe(303);
    expect(page.location).toBe("/visitors/self-service/sent");
    page = await frankie.get(page.location!);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Check your email");
    expect(page.text).toContain("it works for 5 minutes");
    expect(page.html).toContain('<a class="brand" href="/">visitor-pass demo</a>');
    expect(page.html).toContain('<a href="/">← Back to the demo</a>');
    expect(page.html).toContain('<a href="/outbox">outbox</a>');

    [pass] = await passes.list({ scope: "EARLY_ACCESS" });
    expect(pass).toMatchObject({
      firstName: "Frankie",
      lastName: "Manning",
      email: "frankie@savoy.example.org",
      isActive: true,
    });
    expect(pass!.uuid).not.toBe(pendingUuid);
    // The form is done with: it cannot be filled in again.
    page = await frankie.get(form);
    expect(page.status).toBeGreaterThanOrEqual(400);
    expect(page.status).toBeLessThan(500);

    // The outbox has the email, its link to where she was going.
    page = await frankie.get("/outbox");
    const email = emailsIn(page)[0]!;
    expect(email).toEqual({
      to: "Frankie Manning <frankie@savoy.example.org>",
      subject: "Your early access to the dance floor",
      link: `${base}/early-access?vuid=${pass!.uuid}`,
    });
    expect(page.text).toContain("Hello Frankie,");
    // The email writes its date the way the pages do (`<time>` elements), from one helper.
    const expiry = (await passes.get(pass!.uuid))!.expiresAt!;
    expect(page.text).toContain(`The link below works until ${formatDate(expiry)}:`);
    expect(formatDate(expiry)).toMatch(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC$/);
    const shown = [...page.html.matchAll(/<time datetime="[^"]+">([^<]+)<\/time>/g)];
    expect(shown.length).toBeGreaterThan(0);
    for (const [, text] of shown)
      expect(text).toMatch(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC$/);

    // The link admits her, then drops the token from the address bar.
    page = await frankie.get(email.link, { follow: false });
    expect(page.status).toBe(302);
    expect(page.location).toBe("/early-access");
    page = await frankie.get("/early-access");
    expect(page.status).toBe(200);
    expect(page.text).toContain("Welcome, Frankie");
    expect(page.text).toContain("Visiting as Frankie Manning · scope EARLY_ACCESS");
    expect(page.text).not.toContain("Your reference");
    page = await frankie.get("/");
    expect(page.text).toContain("You have early access to the dance floor tonight.");

    // Her pass is for early access: the reference page says so, not that her visit has ended.
    page = await frankie.get("/reference");
    expect(page.status).toBe(403);
    expect(page.text).toContain("Your pass does not open this page");
    expect(page.text).toContain(
      "Your invitation is for early access to the dance floor; this page is for writing a reference",
    );
    expect(page.text).not.toContain("If you already sent your reference");
    await passes.flush();
    expect((await passes.logs(pass!.uuid)).map((log) => log.requestUri)).toEqual(["/early-access"]);

    // Fred, a member, walks straight in without a form; no pass is made for him.
    const fred = person();
    await fred.post("/sign-in", {});
    page = await fred.get("/early-access", { follow: false });
    expect(page.status).toBe(200);
    expect(page.text).toContain("Welcome, Fred");
    expect(await passes.list({ scope: "EARLY_ACCESS" })).toHaveLength(1);
  });

  it("refuses a self-service form posted from another site", async () => {
    const stranger = person();
    const { location } = await stranger.get("/early-access", { follow: false });
    const uuid = location!.split("/").pop()!;
    const forged = await fetch(new URL(location!, base), {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "https://evil.example.org",
        "sec-fetch-site": "cross-site",
      },
      body: new URLSearchParams({
        firstName: "Mallory",
        lastName: "Evil",
        email: "mallory@evil.example.org",
      }).toString(),
    });
    expect(forged.status).toBe(403);
    expect((await passes.get(uuid))?.isActive).toBe(false);
    const outbox = emailsIn(await stranger.get("/outbox"));
    expect(outbox.map((email) => email.to).join()).not.toContain("Mallory");
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
