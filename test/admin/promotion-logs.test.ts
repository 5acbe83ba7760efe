import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Visitor, VisitorPass } from "../../src/index.js";
import { createVisitorPass } from "../../src/index.js";
import { MemoryStore } from "../../src/store/memory/memory-store.js";
import type { NewVisitorLog } from "../../src/store/store.js";
import {
  ADMIN_HEADER,
  ADMIN_SECRET,
  FRAMEWORKS,
  HOSTILE,
  MOUNT,
  type RunningServer,
} from "./support.js";

const T0 = Date.parse("2031-02-10T12:00:00.000Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

function log(visitorId: number, time: Date, statusCode: number, path: string): NewVisitorLog {
  return {
    visitorId,
    sessionKey: "s",
    httpMethod: "GET",
    requestUri: path,
    queryString: "",
    httpUserAgent: HOSTILE,
    httpReferer: null,
    remoteAddr: "203.0.113.7",
    statusCode,
    timestamp: time,
    idempotencyKey: randomUUID(),
  };
}

/** The request paths of the visit-log table, in order. */
function listedPaths(body: string): string[] {
  const table = body.slice(body.indexOf('<table class="data logs">'));
  const tbody = table.slice(table.indexOf("<tbody>"), table.indexOf("</tbody>"));
  return [...tbody.matchAll(/<td class="anywhere">([^<]*)<\/td>/g)].map((m) => m[1]!);
}

describe.each(FRAMEWORKS)("promotion and the visit-log list on $name", (framework) => {
  let passes: VisitorPass;
  let server: RunningServer;
  let promoted: Visitor;
  let plain: Visitor;
  let other: Visitor;

  beforeAll(async () => {
    const store = new MemoryStore();
    passes = createVisitorPass({ store, env: {}, landingRedirect: false });
    promoted = await passes.create({ email: "convert@example.org", scope: "REFERENCE" });
    plain = await passes.create({ email: "plain@example.org", scope: "REFERENCE" });
    other = await passes.create({ email: "other@example.org", scope: "NEWSLETTER" });
    await passes.promote(promoted.uuid, { userId: HOSTILE });
    // 30 visits to the plain pass, one a minute, then one each to the others.
    await store.insertLogs(
      Array.from({ length: 30 }, (_, i) => log(plain.id, at(i), i % 5 === 0 ? 404 : 200, `/p${i}`)),
    );
    await store.insertLogs([
      log(promoted.id, at(100), 200, "/promoted"),
      log(other.id, at(24 * 60), 200, "/next-day"),
    ]);
    server = await framework.start(passes);
  });

  afterAll(async () => {
    await server?.close();
    await passes?.close();
  });

  async function get(path: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`${server.url}${MOUNT}${path}`, {
      headers: { [ADMIN_HEADER]: ADMIN_SECRET },
      redirect: "manual",
    });
    return { status: response.status, body: await response.text() };
  }

  function post(path: string, form: [string, string][] = []) {
    return fetch(`${server.url}${MOUNT}${path}`, {
      method: "POST",
      headers: {
        [ADMIN_HEADER]: ADMIN_SECRET,
        "content-type": "application/x-www-form-urlencoded",
        "sec-fetch-site": "same-origin",
        origin: server.url,
      },
      body: new URLSearchParams(form).toString(),
      redirect: "manual",
    });
  }

  describe("a promoted pass", () => {
    it("shows 'promoted to <userId> on <date>' on the list and its page, escaped", async () => {
      const list = await get("/");
      expect(list.status).toBe(200);
      const row = list.body.split("<tr>").find((tr) => tr.includes(">convert@example.org</a>"))!;
      expect(row).toContain("Promoted");
      expect(row).toContain(
        'promoted to <code class="user-id">&lt;script&gt;alert(1)&lt;/script&gt;</code> on <time',
      );
      expect(list.body).not.toContain(HOSTILE);
      const page = await get(`/passes/${promoted.id}`);
      expect(page.body).toContain("no: promoted to an account");
      expect(page.body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(page.body).not.toContain(HOSTILE);
      expect(page.body).toContain(`href="${MOUNT}/logs?pass=${promoted.id}"`);
    });

    it("offers no Reactivate, and refuses one posted anyway (409), alone or in bulk", async () => {
      const page = await get(`/passes/${promoted.id}`);
      expect(page.body).not.toContain(`/passes/${promoted.id}/reactivate`);
      const one = await post(`/passes/${promoted.id}/reactivate`);
      expect(one.status).toBe(409);
      expect(await one.text()).toContain("promoted to an account");
      const bulk = await post("/bulk", [
        ["action", "reactivate"],
        ["id", String(promoted.id)],
      ]);
      expect(bulk.status).toBe(303);
      const back = await get(bulk.headers.get("location")!.slice(MOUNT.length));
      expect(back.body).toContain("Left 1 promoted pass off");
      expect((await passes.get(promoted.uuid))?.isActive).toBe(false);
    });

    it("is found by the promoted filter, and only it", async () => {
      const yes = await get("/?promoted=yes");
      expect(yes.body).toContain(">convert@example.org</a>");
      expect(yes.body).not.toContain(">plain@example.org</a>");
      const no = await get("/?promoted=no");
      expect(no.body).not.toContain(">convert@example.org</a>");
      expect(no.body).toContain(">plain@example.org</a>");
      expect((await get("/?promoted=maybe")).status).toBe(400);
    });
  });

  describe("the visit-log list", () => {
    it("is linked from the navigation and lists every pass's visits, newest first, one page at a time", async () => {
      const list = await get("/");
      expect(list.body).toContain(`href="${MOUNT}/logs"`);
      const first = await get("/logs");
      expect(first.status).toBe(200);
      expect(first.body).toContain('aria-current="page">Visit logs');
      const paths = listedPaths(first.body);
      // 25 to a page (the admin's page size).
      expect(paths).toHaveLength(25);
      expect(paths.slice(0, 3)).toEqual(["/next-day", "/promoted", "/p29"]);
      expect(first.body).not.toContain(HOSTILE);
      const older = /<a rel="next" href="([^"]+)">/.exec(first.body)![1]!.replaceAll("&amp;", "&");
      const second = await get(older.slice(MOUNT.length));
      expect(listedPaths(second.body)).toEqual(["/p6", "/p5", "/p4", "/p3", "/p2", "/p1", "/p0"]);
      expect(second.body).not.toContain('rel="next"');
    });

    it("filters by scope, pass (id or email), status and dates", async () => {
      expect(listedPaths((await get("/logs?scope=NEWSLETTER")).body)).toEqual(["/next-day"]);
      expect(listedPaths((await get(`/logs?pass=${promoted.id}`)).body)).toEqual(["/promoted"]);
      expect(listedPaths((await get("/logs?pass=convert%40example.org")).body)).toEqual([
        "/promoted",
      ]);
      expect(listedPaths((await get("/logs?scope=REFERENCE&status=404")).body)).toEqual([
        "/p25",
        "/p20",
        "/p15",
        "/p10",
        "/p5",
        "/p0",
      ]);
      expect(listedPaths((await get("/logs?from=2031-02-11&to=2031-02-11")).body)).toEqual([
        "/next-day",
      ]);
      expect(listedPaths((await get("/logs?to=2031-02-10&scope=NEWSLETTER")).body)).toEqual([]);
      expect((await get("/logs?scope=NOPE")).body).toContain("No visits match these filters.");
    });

    it.each([
      ["status", "abc"],
      ["status", "99"],
      ["status", "600"],
      ["status", "2000"],
      ["from", "2031-02-30"],
      ["from", "yesterday"],
      ["to", "2031-13-01"],
      ["pass", "0"],
      ["pass", "-1"],
      ["pass", "99999999999"],
      ["pass", randomUUID()],
      ["pass", HOSTILE],
      ["before", "1-0"],
      ["before", "'; drop table visitors; --"],
      ["scope", "x".repeat(101)],
    ])("answers %s=%j with a 400 page, never a 500", async (name, value) => {
      const answer = await get(`/logs?${new URLSearchParams({ [name]: value })}`);
      expect(answer.status).toBe(400);
      expect(answer.body).toContain("Bad request");
      expect(answer.body).not.toContain(HOSTILE);
    });

    it("answers from after to with a 400 page", async () => {
      expect((await get("/logs?from=2031-02-12&to=2031-02-11")).status).toBe(400);
    });

    it("answers NUL in a filter as no match, not an error", async () => {
      const answer = await get("/logs?scope=%00");
      expect(answer.status).toBe(200);
      expect(listedPaths(answer.body)).toEqual([]);
    });
  });
});
