import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PAGE_HEADERS } from "../../src/core/page.js";
import { flowOf } from "../../src/core/visitor-pass.js";
import { splitMount } from "../../src/features/admin/admin.js";
import { type Visitor, type VisitorPass, VisitorPassConfigError } from "../../src/index.js";
import { DATABASES, openPasses as openDatabasePasses } from "../support/databases.js";
import {
  ADMIN_HEADER,
  ADMIN_SECRET,
  FRAMEWORKS,
  HOSTILE,
  MANY,
  MOUNT,
  openPasses,
  type RunningServer,
  type Seed,
  seed,
  unclaimedRequest,
  visitsWithoutSession,
} from "./support.js";

interface Answer {
  status: number;
  location: string | null;
  headers: Headers;
  body: string;
}

interface Ask {
  method?: "GET" | "POST" | "PUT";
  form?: [string, string][];
  headers?: Record<string, string>;
  /** Send the header `authorize` looks for. @default true */
  admin?: boolean;
}

/** The e-mail addresses of the pass list's rows, in order. */
function listedEmails(body: string): string[] {
  const table = body.slice(body.indexOf('<table class="data cards passes">'));
  const tbody = table.slice(table.indexOf("<tbody>"), table.indexOf("</tbody>"));
  return [...tbody.matchAll(/<td class="who[^"]*"><a href="[^"]*">([^<]*)<\/a>/g)].map(
    (m) => m[1]!,
  );
}

/** The `<tr>` of the pass list that shows `email`. */
function rowOf(body: string, email: string): string {
  const row = body.split("<tr>").find((tr) => tr.includes(`>${email}</a>`));
  if (!row) throw new Error(`no row for ${email}`);
  return row;
}

const bars = (body: string) => (body.match(/<rect class="bar"/g) ?? []).length;

describe.each(FRAMEWORKS)("admin pages on $name", (framework) => {
  let passes: VisitorPass;
  let data: Seed;
  let server: RunningServer;

  beforeAll(async () => {
    passes = await openPasses();
    data = await seed(passes);
    server = await framework.start(passes);
  });

  afterAll(async () => {
    await server?.close();
    await passes?.close();
  });

  async function ask(path: string, options: Ask = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.admin !== false) headers[ADMIN_HEADER] = ADMIN_SECRET;
    let body: string | undefined;
    if (options.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(options.form).toString();
    }
    const response = await fetch(`${server.url}${MOUNT}${path}`, {
      method: options.method ?? (options.form ? "POST" : "GET"),
      headers,
      body,
      redirect: "manual",
    });
    return {
      status: response.status,
      location: response.headers.get("location"),
      headers: response.headers,
      body: await response.text(),
    };
  }

  /** A POST the way a browser sends one from the admin's own pages. */
  function post(path: string, form: [string, string][] = [], headers?: Record<string, string>) {
    return ask(path, {
      method: "POST",
      form,
      headers: headers ?? { "sec-fetch-site": "same-origin", origin: server.url },
    });
  }

  describe("setup and authorization", () => {
    it("throws VisitorPassConfigError when set up without an authorize function", async () => {
      await expect(framework.setUp(passes, {})).rejects.toBeInstanceOf(VisitorPassConfigError);
      await expect(framework.setUp(passes, { authorize: true })).rejects.toThrow(/authorize/);
      await expect(framework.setUp(passes, { authorize: () => true })).resolves.toBeUndefined();
    });

    it("refuses a request authorize() turns down with a 403 page and reads nothing", async () => {
      const methods = [
        ...(["get", "getById", "list", "count", "logs", "sharing", "sharingReport"] as const),
        ...(["visitsOverTime", "visitCounts", "deactivate", "reactivate"] as const),
      ];
      const spies = methods.map((name) => vi.spyOn(passes, name));
      try {
        const target = data.shared;
        const answers = [
          await ask("/", { admin: false }),
          await ask("/?q=ginger", { admin: false, headers: { [ADMIN_HEADER]: "wrong" } }),
          await ask("/sharing", { admin: false }),
          await ask(`/passes/${target.id}`, { admin: false }),
          await ask("/passes/999999", { admin: false }),
          await ask(`/passes/${target.id}/deactivate`, {
            admin: false,
            form: [],
            headers: { "sec-fetch-site": "same-origin" },
          }),
          await ask("/bulk", {
            admin: false,
            form: [
              ["action", "deactivate"],
              ["id", String(target.id)],
            ],
            headers: { "sec-fetch-site": "same-origin" },
          }),
        ];
        for (const answer of answers) {
          expect(answer.status).toBe(403);
          expect(answer.headers.get("cache-control")).toBe("no-store");
          for (const secret of [target.email, target.uuid, "REFERENCE", "NEWSLETTER", "reader"]) {
            expect(answer.body).not.toContain(secret);
          }
        }
        for (const spy of spies) expect(spy).not.toHaveBeenCalled();
        // The same spies do see the reads of a request that is let in.
        expect((await ask(`/passes/${target.id}`)).status).toBe(200);
        expect(passes.getById).toHaveBeenCalled();
        expect(passes.sharing).toHaveBeenCalled();
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
      expect((await passes.get(data.shared.uuid))?.isActive).toBe(true);
    });
  });

  describe("the pass list", () => {
    it("shows passes newest first, 25 to a page, with the package's page headers", async () => {
      const first = await ask("/");
      expect(first.status).toBe(200);
      for (const [name, value] of Object.entries(PAGE_HEADERS)) {
        expect(first.headers.get(name)).toBe(value);
      }
      const page1 = listedEmails(first.body);
      expect(page1).toHaveLength(25);
      expect(page1[0]).toBe(`reader${MANY}@example.net`);
      expect(first.body).toContain('<input type="search" name="q"');
      expect(first.body).toContain(`href="${MOUNT}/?page=2"`);
      expect(first.body).toContain("Older");
      for (const column of ["Scope", "Email", "Created", "Expires", "Status", "Uses"]) {
        expect(first.body).toContain(`>${column}</th>`);
      }

      const second = await ask("/?page=2");
      const page2 = listedEmails(second.body);
      expect(page2).toHaveLength(MANY + 4 - 25);
      expect(page2.at(-1)).toBe(data.expired.email);
      expect(new Set([...page1, ...page2]).size).toBe(MANY + 4);
      expect(second.body).toContain(`href="${MOUNT}/"`);
      expect(second.body).toContain("Newer");
      expect(second.body).not.toContain(`href="${MOUNT}/?page=3"`);

      const beyond = await ask("/?page=40");
      expect(beyond.status).toBe(200);
      expect(listedEmails(beyond.body)).toEqual([]);
    });

    it("links each email to its pass and shows uses and visits", async () => {
      const body = (await ask("/?scope=REFERENCE")).body;
      const row = rowOf(body, data.shared.email);
      expect(row).toContain(`href="${MOUNT}/passes/${data.shared.id}"`);
      expect(row).toContain(`name="id" value="${data.shared.id}"`);
      expect(row).toMatch(/data-label="Uses">4</);
      expect(row).toMatch(/data-label="Visits">4</);
      expect(rowOf(body, data.hostile.email)).toMatch(/data-label="Visits">1</);
      expect(rowOf(body, data.expired.email)).toContain("Expired");
      expect(rowOf(body, data.inactive.email)).toContain("Inactive");
    });

    it("filters by scope, active and valid, and searches names, email and scope", async () => {
      const emails = async (query: string) => listedEmails((await ask(`/?${query}`)).body);
      expect(await emails("scope=REFERENCE")).toEqual([
        data.shared.email,
        data.hostile.email,
        data.inactive.email,
        data.expired.email,
      ]);
      expect(await emails("q=ginger")).toEqual([data.shared.email]);
      expect(await emails("q=rOgErS")).toEqual([data.shared.email]);
      expect(await emails("q=reader1")).toHaveLength(10);
      expect(await emails("q=newslet")).toHaveLength(25);
      expect(await emails("active=no")).toEqual([data.inactive.email]);
      expect(await emails("valid=no")).toEqual([data.inactive.email, data.expired.email]);
      expect(await emails("scope=REFERENCE&valid=yes")).toEqual([
        data.shared.email,
        data.hostile.email,
      ]);
      expect(await emails("scope=REFERENCE&active=yes&valid=no")).toEqual([data.expired.email]);
      expect(await emails("q=nobody-like-this")).toEqual([]);
    });

    it("keeps the filters in the Newer and Older links", async () => {
      const first = await ask("/?q=reader&active=yes");
      expect(listedEmails(first.body)).toHaveLength(25);
      expect(first.body).toContain(`href="${MOUNT}/?q=reader&amp;active=yes&amp;page=2"`);
      const second = await ask("/?q=reader&active=yes&page=2");
      expect(listedEmails(second.body)).toHaveLength(MANY - 25);
      expect(second.body).toContain(`href="${MOUNT}/?q=reader&amp;active=yes"`);
      expect(second.body).toContain('value="reader"');
    });

    it("answers bad page numbers and filter values with a 400 page", async () => {
      for (const query of [
        "page=0",
        "page=-1",
        "page=abc",
        "page=1.5",
        "page=99999999999",
        "active=maybe",
        "valid=2",
        `q=${"x".repeat(201)}`,
        `scope=${"s".repeat(101)}`,
      ]) {
        const answer = await ask(`/?${query}`);
        expect(answer.status, query).toBe(400);
        expect(answer.headers.get("content-type")).toMatch(/text\/html/);
      }
      expect((await ask("/?page=")).status).toBe(200);
      expect((await ask("/?active=&valid=&q=")).status).toBe(200);
    });

    it("draws visits over the last 30 days as an accessible SVG bar chart", async () => {
      const body = (await ask("/")).body;
      const svg = body.slice(body.indexOf("<svg"), body.indexOf("</svg>"));
      expect(svg).toMatch(/role="img"/);
      expect(svg).toMatch(/aria-label="[^"]+"/);
      expect(svg).toContain("<title>");
      expect(svg).toContain("<desc");
      expect(bars(body)).toBe(30);
      const today = new Date().toISOString().slice(0, 10);
      expect(body).toContain('class="visually-hidden"');
      expect(body).toContain(`<tr><td>${today}</td><td>5</td></tr>`);
      expect(body).toContain("5 visits");
    });
  });

  describe("a pass's page", () => {
    it("shows every field, the context, the link, the visits and the sharing signals", async () => {
      const { shared } = data;
      const answer = await ask(`/passes/${shared.id}`);
      expect(answer.status).toBe(200);
      const body = answer.body;
      for (const text of [
        shared.email,
        "Ginger",
        "Rogers",
        "REFERENCE",
        "Created",
        "Last updated",
        "Link expires",
        "Session lifetime",
        "4 (no limit)",
      ]) {
        expect(body).toContain(text);
      }
      expect(body).toContain("<pre>{\n  &quot;reference&quot;: &quot;Fred&quot;\n}</pre>");
      expect(body).toContain(`${server.url}/?vuid=${shared.uuid}`);
      for (const address of ["198.51.100.7", "198.51.101.7", "198.51.102.7", "198.51.103.7"]) {
        expect(body).toContain(address);
      }
      expect(body).toContain("Firefox/128.0");
      expect(body).toContain("/reference");
      expect(body).toContain("Sharing signals");
      expect(body).toContain("Possibly shared");
      expect(body).toMatch(/<dt>Sessions<\/dt><dd>4<\/dd>/);
      expect(body).toContain("sessions (more than 2)");
      expect(bars(body)).toBe(30);
      expect(body).toContain(`action="${MOUNT}/passes/${shared.id}/deactivate"`);
      expect(body).toContain(`action="${MOUNT}/passes/${shared.id}/reactivate"`);
    });

    it("escapes hostile names, context, user agents and referers everywhere", async () => {
      const pages = [
        (await ask(`/passes/${data.hostile.id}`)).body,
        (await ask("/?scope=REFERENCE")).body,
        (await ask("/sharing")).body,
        (await ask(`/?q=${encodeURIComponent(HOSTILE)}`)).body,
      ];
      for (const body of pages) {
        expect(body).not.toMatch(/<script/i);
        expect(body).not.toContain("<img");
        expect(body).not.toContain("<b>");
      }
      const [pass, list, , search] = pages as [string, string, string, string];
      expect(pass).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(pass).toContain("O&#39;Hara &amp; &lt;b&gt;Sons&lt;/b&gt;");
      expect(pass).toContain("&lt;/pre&gt;&lt;script&gt;");
      expect(pass).toContain("Mozilla/5.0 &lt;script&gt;alert(1)&lt;/script&gt;");
      expect(pass).toContain("https://example.com/?r=&lt;script&gt;");
      expect(list).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(search).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    });

    it("answers unknown and malformed pass identifiers with 404, never 500", async () => {
      for (const id of [
        "999999",
        "0",
        "-1",
        "007",
        "1e3",
        "1.0",
        "2147483648",
        "99999999999",
        "%00",
        "not-a-uuid",
        "f".repeat(64),
        "%3Cscript%3E",
        `${data.shared.id}x`,
        "..%2F..%2Fetc",
      ]) {
        const answer = await ask(`/passes/${id}`);
        expect(answer.status, id).toBe(404);
        expect(answer.body).not.toMatch(/<script/i);
        const action = await post(`/passes/${id}/deactivate`);
        expect(action.status, id).toBe(404);
      }
      // Percent-encoding that does not decode: the framework or the admin refuses it, neither 500s.
      expect([400, 404]).toContain((await ask("/passes/%E0%A4%A")).status);
      expect((await ask("/no/such/page")).status).toBe(404);
      expect((await ask(`/passes/${data.shared.id}/destroy`)).status).toBe(404);
    });

    it("answers the wrong method with 405", async () => {
      const get = await ask(`/passes/${data.shared.id}/deactivate`);
      expect(get.status).toBe(405);
      expect((await ask("/bulk")).status).toBe(405);
      expect((await post("/")).status).toBe(405);
      expect((await passes.get(data.shared.uuid))?.isActive).toBe(true);
    });
  });

  describe("the sharing page", () => {
    it("lists the report, flagged first, each row linking to its pass", async () => {
      const answer = await ask("/sharing");
      expect(answer.status).toBe(200);
      const body = answer.body;
      const shared = body.indexOf(`href="${MOUNT}/passes/${data.shared.id}"`);
      const hostile = body.indexOf(`href="${MOUNT}/passes/${data.hostile.id}"`);
      expect(shared).toBeGreaterThan(0);
      expect(hostile).toBeGreaterThan(shared);
      expect(body).toContain("Flagged");
      expect(body).not.toContain(data.many[0]!.email);

      const flagged = (await ask("/sharing?flagged=yes")).body;
      expect(flagged).toContain(data.shared.email);
      expect(flagged).not.toContain(data.hostile.email);
      expect((await ask("/sharing?scope=NEWSLETTER")).body).not.toContain(data.shared.email);
      expect((await ask("/sharing?flagged=perhaps")).status).toBe(400);
      expect((await ask("/sharing?page=x")).status).toBe(400);
    });
  });

  describe("changes", () => {
    it("deactivates and reactivates one pass: POST, 303 back to its page, state changed", async () => {
      const target = data.many[0]!;
      const off = await post(`/passes/${target.id}/deactivate`);
      expect(off.status).toBe(303);
      expect(off.location).toBe(`${MOUNT}/passes/${target.id}?done=deactivated`);
      expect((await passes.get(target.uuid))?.isActive).toBe(false);
      const page = await ask(`/passes/${target.id}?done=deactivated`);
      expect(page.body).toContain("Deactivated");
      expect(page.body).not.toContain(`/passes/${target.id}/deactivate"`);

      // A browser that sends only Origin (no Sec-Fetch-Site) from this site is fine too.
      const on = await post(`/passes/${target.id}/reactivate`, [], { origin: server.url });
      expect(on.status).toBe(303);
      expect(on.location).toBe(`${MOUNT}/passes/${target.id}?done=reactivated`);
      const back = await passes.get(target.uuid);
      expect(back?.isActive).toBe(true);
      expect(back?.isValid).toBe(true);
    });

    it("deactivates and reactivates in bulk, back to the list with its filters", async () => {
      const targets = [data.many[1]!, data.many[2]!, data.many[3]!];
      const off = await post("/bulk", [
        ["return", "?scope=NEWSLETTER&page=2"],
        ...targets.map((t): [string, string] => ["id", String(t.id)]),
        ["action", "deactivate"],
      ]);
      expect(off.status).toBe(303);
      expect(off.location).toBe(`${MOUNT}/?scope=NEWSLETTER&page=2&done=deactivated&count=3`);
      for (const t of targets) expect((await passes.get(t.uuid))?.isActive).toBe(false);
      expect((await ask(off.location!.slice(MOUNT.length))).body).toContain(
        "Deactivated 3 passes.",
      );

      const on = await post("/bulk", [
        ["action", "reactivate"],
        ...targets.map((t): [string, string] => ["id", String(t.id)]),
      ]);
      expect(on.status).toBe(303);
      expect(on.location).toBe(`${MOUNT}/?done=reactivated&count=3`);
      for (const t of targets) expect((await passes.get(t.uuid))?.isActive).toBe(true);
    });

    it("handles empty, unknown and malformed bulk selections without a 500", async () => {
      const none = await post("/bulk", [["action", "deactivate"]]);
      expect(none.status).toBe(303);
      expect(none.location).toBe(`${MOUNT}/?done=none&count=0`);

      const unknown = await post("/bulk", [
        ["action", "deactivate"],
        ["id", "999999"],
      ]);
      expect(unknown.location).toBe(`${MOUNT}/?done=deactivated&count=0`);

      const target = data.many[4]!;
      const malformed = await post("/bulk", [
        ["action", "deactivate"],
        ["id", String(target.id)],
        ["id", "<script>"],
      ]);
      expect(malformed.status).toBe(400);
      expect(malformed.body).not.toMatch(/<script/i);
      expect((await passes.get(target.uuid))?.isActive).toBe(true);

      for (const action of [[], [["action", "delete"]]] as [string, string][][]) {
        const bad = await post("/bulk", [...action, ["id", String(target.id)]]);
        expect(bad.status).toBe(400);
      }
      // A return address that is not the list's own query string is not followed.
      const away = await post("/bulk", [
        ["action", "reactivate"],
        ["return", "//evil.example/?page=2"],
      ]);
      expect(away.location).toBe(`${MOUNT}/?done=none&count=0`);
      expect((await passes.get(target.uuid))?.isActive).toBe(true);
    });

    it("refuses a form posted from another site with 403 and changes nothing", async () => {
      const target = data.many[5]!;
      const foreign: Record<string, string>[] = [
        { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
        { "sec-fetch-site": "same-site", origin: "https://admin.evil.example" },
        { origin: "https://evil.example" },
        { origin: "null" },
      ];
      for (const headers of foreign) {
        const single = await post(`/passes/${target.id}/deactivate`, [], headers);
        expect(single.status, JSON.stringify(headers)).toBe(403);
        expect(single.location).toBeNull();
        const bulk = await post(
          "/bulk",
          [
            ["action", "deactivate"],
            ["id", String(target.id)],
          ],
          headers,
        );
        expect(bulk.status, JSON.stringify(headers)).toBe(403);
      }
      expect((await passes.get(target.uuid))?.isActive).toBe(true);
    });
  });

  describe("tokens stay out of URLs", () => {
    /** Every URL of a page: links, form actions, sources. */
    const urlsOf = (body: string) =>
      [...body.matchAll(/\s(?:href|action|src|formaction)="([^"]*)"/g)].map((m) => m[1]!);
    const tokens = () =>
      [data.shared, data.hostile, data.expired, data.inactive, ...data.many].map((v) => v.uuid);

    it("addresses passes by id in every link and form; the link shows only behind a disclosure", async () => {
      const pages = [
        await ask("/"),
        await ask("/?page=2"),
        await ask("/?scope=REFERENCE"),
        await ask("/sharing"),
        await ask(`/passes/${data.shared.id}`),
        await ask(`/passes/${data.inactive.id}`),
      ];
      for (const page of pages) {
        expect(page.status).toBe(200);
        for (const url of urlsOf(page.body)) {
          for (const token of tokens()) expect(url).not.toContain(token);
        }
        // Only the pass page holds a token at all: its own, in the field behind "Show link".
        const found = tokens().filter((token) => page.body.includes(token));
        expect(found.length).toBeLessThanOrEqual(1);
      }
      const pass = pages[4]!.body;
      expect(pass).toMatch(
        new RegExp(
          `<details class="link"><summary>Show link</summary><label class="copy">Link to send<input type="text" readonly value="${server.url}/\\?vuid=${data.shared.uuid}"`,
        ),
      );
      expect(pass.split(data.shared.uuid)).toHaveLength(2);
      expect(pages[0]!.body).not.toContain(data.many.at(-1)!.uuid);
    });

    it("answers the old token URLs with 404 and changes nothing through them", async () => {
      const target = data.many[6]!;
      expect((await ask(`/passes/${target.uuid}`)).status).toBe(404);
      expect((await post(`/passes/${target.uuid}/deactivate`)).status).toBe(404);
      const bulk = await post("/bulk", [
        ["action", "deactivate"],
        ["id", target.uuid],
      ]);
      expect(bulk.status).toBe(400);
      // The former field name is not read either.
      const old = await post("/bulk", [
        ["action", "deactivate"],
        ["uuid", target.uuid],
      ]);
      expect(old.location).toBe(`${MOUNT}/?done=none&count=0`);
      expect((await passes.get(target.uuid))?.isActive).toBe(true);
    });
  });

  describe("reactivation and badges", () => {
    const badges = (html: string) =>
      [...html.matchAll(/<span class="badge[^"]*">([^<]*)<\/span>/g)].map((m) => m[1]);
    const heading = (html: string) => html.slice(html.indexOf("<h1>"), html.indexOf("</h1>"));
    const offersReactivate = (html: string, id: number) =>
      html.includes(`action="${MOUNT}/passes/${id}/reactivate"`);

    it("offers Reactivate only where it shortens nothing; refuses a POST that would, alone or in bulk", async () => {
      const week = new Date(Date.now() + 7 * 86_400_000);
      const long = await passes.create({
        email: "week@example.org",
        scope: "LONG",
        expiresAt: week,
      });
      const never = await passes.create({
        email: "never@example.org",
        scope: "LONG",
        expiresAt: null,
      });
      for (const pass of [long, never]) {
        const page = await ask(`/passes/${pass.id}`);
        expect(badges(heading(page.body))).toEqual(["Active"]);
        expect(offersReactivate(page.body, pass.id)).toBe(false);
        const single = await post(`/passes/${pass.id}/reactivate`);
        expect(single.status).toBe(409);
        expect(single.body).toContain("would only shorten it");
        expect((await passes.get(pass.uuid))?.expiresAt?.getTime() ?? null).toBe(
          pass.expiresAt?.getTime() ?? null,
        );
      }
      const bulk = await post("/bulk", [
        ["action", "reactivate"],
        ["id", String(long.id)],
      ]);
      expect(bulk.location).toBe(`${MOUNT}/?done=reactivated&count=0&kept=1`);
      expect((await ask(bulk.location!.slice(MOUNT.length))).body).toContain(
        "Left 1 active pass as it was: its link works longer than reactivating would give.",
      );
      expect((await passes.get(long.uuid))?.expiresAt?.getTime()).toBe(week.getTime());

      // Off, the same pass offers Reactivate, and turning it back on is what reactivating means.
      await passes.deactivate(long.uuid);
      const off = await ask(`/passes/${long.id}`);
      expect(badges(heading(off.body))).toEqual(["Inactive"]);
      expect(offersReactivate(off.body, long.id)).toBe(true);
    });

    it("shows one badge per state: expired, used up, inactive, each once", async () => {
      const expired = await ask(`/passes/${data.expired.id}`);
      expect(badges(heading(expired.body))).toEqual(["Active", "Expired"]);
      expect(offersReactivate(expired.body, data.expired.id)).toBe(true);
      const inactive = await ask(`/passes/${data.inactive.id}`);
      expect(badges(heading(inactive.body))).toEqual(["Inactive"]);
      const once = await passes.create({ email: "once@example.org", scope: "ONCE", maxUses: 1 });
      // Its one use spent by a landing, as a visitor's click spends it.
      await flowOf(passes, "test").recognise(
        { method: "GET", url: `/r?vuid=${once.uuid}`, userAgent: null, referer: null, ip: null },
        null,
        { authenticated: false },
      );
      const used = await ask(`/passes/${once.id}`);
      expect(badges(heading(used.body))).toEqual(["Active", "Used up"]);
      const list = await ask("/?scope=ONCE");
      expect(badges(rowOf(list.body, once.email))).toEqual(["Active", "Used up"]);
    });
  });

  describe("unclaimed self-service requests", () => {
    let request: Visitor;
    beforeAll(async () => {
      request = await unclaimedRequest(passes, `EARLY_${framework.name.toUpperCase()}`);
    });

    it("are listed without a checkbox, and their page offers no reactivation and no link", async () => {
      const list = await ask(`/?scope=${request.scope}`);
      const row = rowOf(list.body, "(no email yet)");
      expect(row).toContain(`href="${MOUNT}/passes/${request.id}"`);
      expect(row).not.toContain('type="checkbox"');
      expect(row).toContain("Pending request");

      const page = await ask(`/passes/${request.id}`);
      expect(page.status).toBe(200);
      expect(page.body).not.toContain("/reactivate");
      expect(page.body).not.toContain("/deactivate");
      expect(page.body).not.toContain(request.uuid);
      expect(page.body).toContain("form was never completed");
    });

    it("refuse reactivation, alone (409) or in bulk (skipped, said so), and stay off", async () => {
      const single = await post(`/passes/${request.id}/reactivate`);
      expect(single.status).toBe(409);
      expect(single.body).toContain("cannot be reactivated");
      expect((await passes.getById(request.id))?.isActive).toBe(false);

      const other = data.many[7]!;
      await passes.deactivate(other.uuid);
      const bulk = await post("/bulk", [
        ["action", "reactivate"],
        ["id", String(request.id)],
        ["id", String(other.id)],
      ]);
      expect(bulk.status).toBe(303);
      expect(bulk.location).toBe(`${MOUNT}/?done=reactivated&count=1&skipped=1`);
      const notice = await ask(bulk.location!.slice(MOUNT.length));
      expect(notice.body).toContain("Reactivated 1 pass.");
      expect(notice.body).toContain(
        "Skipped 1 self-service request whose form was never completed",
      );
      expect((await passes.getById(request.id))?.isActive).toBe(false);
      expect((await passes.getById(other.id))?.isActive).toBe(true);
    });
  });

  describe("query parameters the database cannot take", () => {
    it("answers NUL and other control characters in the search and filters as no match, 200", async () => {
      for (const query of [
        "q=%00",
        "q=ginger%00",
        "scope=%00",
        "scope=REFERENCE%00",
        "q=%00&scope=%00&active=yes&valid=no&page=2",
        "q=%01%1B%7F",
      ]) {
        const answer = await ask(`/?${query}`);
        expect(answer.status, query).toBe(200);
        expect(listedEmails(answer.body), query).toEqual([]);
      }
      for (const query of ["scope=%00", "scope=%00&flagged=yes&page=3"]) {
        const answer = await ask(`/sharing?${query}`);
        expect(answer.status, query).toBe(200);
        expect(answer.body).not.toContain('<td class="wrap email">');
      }
      for (const query of ["active=%00", "valid=%00", "page=%00", "flagged=%00"]) {
        const path = query.startsWith("flagged") ? "/sharing" : "/";
        expect((await ask(`${path}?${query}`)).status, query).toBe(400);
      }
    });

    it("answers a failing store with 503 and none of the driver's words", async () => {
      const spy = vi
        .spyOn(passes, "list")
        .mockRejectedValue(new Error('relation "secret_internal_table" does not exist'));
      try {
        const answer = await ask("/");
        expect(answer.status).toBe(503);
        expect(answer.body).not.toContain("secret_internal_table");
      } finally {
        spy.mockRestore();
      }
    });
  });

  describe("sharing signals of visits without a session", () => {
    it("say plainly how many visits came without a session, on the pass page and the report", async () => {
      const cookieless = await passes.create({
        email: "no-cookies@example.org",
        scope: "NOCOOKIE",
      });
      await visitsWithoutSession(passes, cookieless, 3);
      const page = await ask(`/passes/${cookieless.id}`);
      expect(page.body).toMatch(/<dt>Sessions<\/dt><dd>0<\/dd>/);
      expect(page.body).toContain("3 visits without a session (cookies refused)");
      const report = await ask("/sharing?scope=NOCOOKIE");
      expect(report.body).toContain("no-cookies@example.org");
      expect(report.body).toContain("3 visits without a session (cookies refused)");
      // A pass whose every visit had a session says nothing of the kind.
      expect((await ask(`/passes/${data.shared.id}`)).body).not.toContain("without a session");
    });
  });
});

for (const database of DATABASES) {
  describe.skipIf(!database.url)(`admin query parameters on ${database.name}`, () => {
    let opened: Awaited<ReturnType<typeof openDatabasePasses>>;
    let target: Visitor;
    beforeAll(async () => {
      opened = await openDatabasePasses(database, { landingRedirect: false });
      target = await opened.passes.create({ email: "nul@example.org", scope: "NUL" });
    });
    afterAll(async () => {
      await opened?.cleanup();
    });

    it.each(FRAMEWORKS)("never answers 5xx or a database message on $name", async (framework) => {
      const server = await framework.start(opened.passes);
      try {
        const get = (path: string) =>
          fetch(`${server.url}${MOUNT}${path}`, { headers: { [ADMIN_HEADER]: ADMIN_SECRET } });
        for (const path of [
          "/?q=%00",
          "/?q=nul%00",
          "/?scope=%00",
          "/?scope=NUL%00&q=%00&active=no&valid=yes&page=2",
          "/sharing?scope=%00",
          "/sharing?scope=NUL%00&flagged=yes",
        ]) {
          const answer = await get(path);
          expect(answer.status, path).toBe(200);
          expect(await answer.text(), path).not.toContain("nul@example.org");
        }
        for (const path of ["/?page=%00", "/?active=%00", "/sharing?page=%00"]) {
          expect((await get(path)).status, path).toBe(400);
        }
        for (const path of ["/passes/2147483648", "/passes/99999999999", "/passes/%00"]) {
          expect((await get(path)).status, path).toBe(404);
        }
        const found = await get(`/?q=nul&scope=NUL`);
        expect(await found.text()).toContain(`href="${MOUNT}/passes/${target.id}"`);
      } finally {
        await server.close();
      }
    });
  });
}

describe("admin pages with hash-only token storage", () => {
  const framework = FRAMEWORKS[0]!;
  let passes: VisitorPass;
  let server: RunningServer;

  beforeAll(async () => {
    passes = await openPasses({ tokenStorage: "hash" });
    server = await framework.start(passes);
  });

  afterAll(async () => {
    await server?.close();
    await passes?.close();
  });

  it("lists passes by id, shows their page, says the link cannot be shown, and changes them", async () => {
    const created = await passes.create({ email: "hash@example.org", scope: "HASHED" });
    const headers = { [ADMIN_HEADER]: ADMIN_SECRET };
    const list = await (await fetch(`${server.url}${MOUNT}/`, { headers })).text();
    expect(list).toContain(`name="id" value="${created.id}"`);
    expect(list).toContain(`href="${MOUNT}/passes/${created.id}"`);
    expect(list).not.toContain(created.uuid);
    expect(list).not.toMatch(/[0-9a-f]{64}/);

    const page = await fetch(`${server.url}${MOUNT}/passes/${created.id}`, { headers });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain("hash@example.org");
    expect(body).toContain("cannot be shown");
    expect(body).not.toContain(created.uuid);

    const off = await fetch(`${server.url}${MOUNT}/passes/${created.id}/deactivate`, {
      method: "POST",
      headers: { ...headers, "sec-fetch-site": "same-origin" },
      redirect: "manual",
    });
    expect(off.status).toBe(303);
    expect((await passes.get(created.uuid))?.isActive).toBe(false);
  });
});

describe.each(FRAMEWORKS)("admin pages mounted elsewhere on $name", (framework) => {
  it("builds links and redirects on the mount point, with parameters in it", async () => {
    const passes = await openPasses();
    const server = await framework.start(passes, "/t/:tenant/admin");
    try {
      const pass = await passes.create({ email: "mounted@example.org", scope: "MOUNTED" });
      const headers = { [ADMIN_HEADER]: ADMIN_SECRET };
      for (const path of ["/t/acme/admin", "/t/acme/admin/"]) {
        const list = await fetch(`${server.url}${path}`, { headers });
        expect(list.status).toBe(200);
        const body = await list.text();
        expect(body).toContain(`href="/t/acme/admin/passes/${pass.id}"`);
        expect(body).toContain('action="/t/acme/admin/bulk"');
      }
      const off = await fetch(`${server.url}/t/acme/admin/passes/${pass.id}/deactivate`, {
        method: "POST",
        headers: { ...headers, "sec-fetch-site": "same-origin" },
        redirect: "manual",
      });
      expect(off.status).toBe(303);
      expect(off.headers.get("location")).toBe(`/t/acme/admin/passes/${pass.id}?done=deactivated`);
      expect((await passes.get(pass.uuid))?.isActive).toBe(false);
    } finally {
      await server.close();
      await passes.close();
    }
  });
});

describe("splitMount", () => {
  it("finds the mount point from the route pattern, parameters and the root included", () => {
    expect(splitMount("/admin/visitors/*", "/admin/visitors/passes/x")).toEqual({
      mount: "/admin/visitors",
      path: "/passes/x",
    });
    expect(splitMount("/admin/visitors/*", "/admin/visitors")).toEqual({
      mount: "/admin/visitors",
      path: "/",
    });
    expect(splitMount("/admin/visitors/", "/admin/visitors/")).toEqual({
      mount: "/admin/visitors",
      path: "/",
    });
    expect(splitMount("/t/:tenant/admin/*", "/t/acme/admin/sharing")).toEqual({
      mount: "/t/acme/admin",
      path: "/sharing",
    });
    expect(splitMount("/*", "/passes/x")).toEqual({ mount: "", path: "/passes/x" });
    expect(splitMount("*", "/")).toEqual({ mount: "", path: "/" });
  });
});
