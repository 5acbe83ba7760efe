import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Visitor } from "../../src/index.js";
import { DATABASES } from "../support/databases.js";
import type { Client } from "./client.js";
import { HARNESSES, REFERENCE_SCOPE } from "./harness.js";
import { SELF_SERVICE_PATH } from "./routes.js";
import { Clock, matrix, useApp, whoami } from "./support.js";

const FORM = new RegExp(`^${SELF_SERVICE_PATH}/self-service/([0-9a-f-]{36})$`);
const SENT = `${SELF_SERVICE_PATH}/self-service/sent`;
const GINGER = { firstName: "Ginger", lastName: "Rogers", email: "ginger@example.org" };

/** Posts the form as a browser on this site does. */
function submit(
  client: Client,
  form: string,
  fields: Record<string, string>,
  headers: Record<string, string> = { "sec-fetch-site": "same-origin", origin: client.baseUrl },
): Promise<Response> {
  return client.post(form, {
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** A guard with `selfService: true`, met without a pass: the path of the form it redirects to. */
async function startAt(client: Client, path = "/apply?topic=reference"): Promise<string> {
  const response = await client.get(path, { redirect: "manual" });
  await response.arrayBuffer();
  expect(response.status).toBe(302);
  const form = response.headers.get("location") ?? "";
  expect(form).toMatch(FORM);
  return form;
}

const uuidOf = (form: string) => FORM.exec(form)![1]!;

/** The self-service flow through each framework's adapter: on every database. */
describe.each(matrix(HARNESSES))("self-service: %s", (_label, harness, database) => {
  describe.skipIf(!database.url)(`(${database.skipped ?? "configured"})`, () => {
    const clock = new Clock();
    afterEach(() => clock.reset());
    const ctx = useApp(harness, database, { now: clock.now, tokenExpiry: 300 });
    const created: Visitor[] = [];
    beforeAll(() => {
      ctx.passes.on("selfServiceVisitorCreated", (visitor) => {
        created.push(visitor);
      });
    });
    beforeEach(() => {
      created.length = 0;
    });

    it("form, a refused address re-rendered escaped, then a pass whose emailed link admits", async () => {
      const ginger = ctx.client("manual");
      const form = await startAt(ginger);
      const pending = await ctx.passes.get(uuidOf(form));
      expect(pending).toMatchObject({
        isActive: false,
        scope: REFERENCE_SCOPE,
        context: { selfService: true, redirectTo: "/apply?topic=reference" },
      });

      const page = await ginger.get(form);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await page.text()).toContain('<form method="post"');

      const invalid = await submit(ginger, form, {
        firstName: "<b>Ginger</b>",
        lastName: 'Rogers"><script>alert(1)</script>',
        email: "ginger@example.com",
      });
      expect(invalid.status).toBe(200);
      const html = await invalid.text();
      expect(html).toContain("addresses at example.com cannot receive the link");
      expect(html).toContain("&lt;b&gt;Ginger&lt;/b&gt;");
      expect(html).toContain("Rogers&quot;&gt;&lt;script&gt;");
      expect(html).not.toContain("<b>Ginger</b>");
      expect(html).not.toContain("<script>alert(1)</script>");
      expect(created).toEqual([]);
      expect((await ctx.passes.get(uuidOf(form)))?.isActive).toBe(false);

      const sent = await submit(ginger, form, GINGER);
      await sent.arrayBuffer();
      expect(sent.status).toBe(303);
      expect(sent.headers.get("location")).toBe(SENT);
      expect((await ginger.get(SENT)).status).toBe(200);

      expect(created).toHaveLength(1);
      const visitor = created[0]!;
      expect(visitor).toMatchObject({ ...GINGER, scope: REFERENCE_SCOPE, isActive: true });
      expect(visitor.isValid).toBe(true);
      expect(visitor.uuid).not.toBe(uuidOf(form));
      // The form's token names the pass it became, but the pass answers to its new token only.
      expect(await ctx.passes.get(uuidOf(form))).toMatchObject({
        uuid: visitor.uuid,
        isActive: true,
        email: GINGER.email,
      });
      const formToken = await ginger.get(ctx.passes.tokenise("/reference", uuidOf(form)));
      await formToken.arrayBuffer();
      expect(formToken.status).toBe(403);

      // The emailed link: back to the page she wanted, admitted.
      const link = ctx.passes.tokenise(String(visitor.context?.redirectTo), visitor);
      const landing = await ginger.get(link);
      await landing.arrayBuffer();
      expect(landing.status).toBe(302);
      expect(landing.headers.get("location")).toBe("/apply?topic=reference");
      expect(await ginger.json("/apply?topic=reference")).toEqual({
        status: 200,
        body: { visitor: visitor.uuid, isVisitor: true, fullName: "Ginger Rogers" },
      });

      // The form's URL is spent: gone, and the claimed pass cannot be claimed again.
      expect((await ginger.get(form)).status).toBe(404);
      expect((await submit(ginger, form, GINGER)).status).toBe(404);
      const claimed = `${SELF_SERVICE_PATH}/self-service/${visitor.uuid}`;
      expect((await ginger.get(claimed)).status).toBe(409);
      expect((await submit(ctx.client(), claimed, GINGER)).status).toBe(409);
      expect(created).toHaveLength(1);
    });

    it("a pending pass past its link expiry is 410, and stays unclaimed", async () => {
      const client = ctx.client("manual");
      const form = await startAt(client);
      clock.advance(301);
      expect((await client.get(form)).status).toBe(410);
      expect((await submit(client, form, GINGER)).status).toBe(410);
      expect(created).toEqual([]);
      expect((await ctx.passes.get(uuidOf(form)))?.isActive).toBe(false);
    });

    it("a cross-site POST is 403 and changes nothing; the same form still works from this site", async () => {
      const client = ctx.client("manual");
      const form = await startAt(client);
      const forgeries: Record<string, string>[] = [
        { "sec-fetch-site": "cross-site" },
        { "sec-fetch-site": "same-site" },
        { origin: "https://evil.example" },
      ];
      for (const headers of forgeries) {
        const forged = await submit(client, form, GINGER, headers);
        await forged.arrayBuffer();
        expect(forged.status).toBe(403);
      }
      expect(created).toEqual([]);
      const pending = await ctx.passes.get(uuidOf(form));
      expect(pending).toMatchObject({ isActive: false, firstName: "", email: "" });
      expect((await client.get(form)).status).toBe(200);

      const sent = await submit(client, form, GINGER);
      expect(sent.status).toBe(303);
      expect(created).toHaveLength(1);
    });

    it("an unknown or malformed form id is 404; a HEAD to the guard creates no pass", async () => {
      const client = ctx.client("manual");
      for (const id of ["00000000-0000-4000-8000-000000000000", "nope"]) {
        expect((await client.get(`${SELF_SERVICE_PATH}/self-service/${id}`)).status).toBe(404);
      }
      const before = (await ctx.passes.list({ scope: REFERENCE_SCOPE })).length;
      const head = await client.request("/apply", { method: "HEAD" });
      expect(head.status).toBe(403);
      expect((await ctx.passes.list({ scope: REFERENCE_SCOPE })).length).toBe(before);
      expect(await whoami(client)).toEqual({ visitor: null, isVisitor: false });
    });
  });
});

/** The refused domains are the app's to choose; the form says which domain it refused. */
describe.each(HARNESSES.map((h) => [h.name, h] as const))(
  "self-service refused domains: %s",
  (_name, harness) => {
    const sqlite = DATABASES.find((d) => d.name === "sqlite")!;
    const ctx = useApp(harness, sqlite, { selfServiceRefusedDomains: ["corp.test"] });

    it("refuses the configured domain and its subdomains, and accepts example.com", async () => {
      for (const email of ["ann@corp.test", "bob@mail.CORP.test"]) {
        const client = ctx.client("manual");
        const form = await startAt(client);
        const refused = await submit(client, form, { ...GINGER, email });
        expect(refused.status).toBe(200);
        expect(await refused.text()).toContain(
          "Use your own email address: addresses at corp.test cannot receive the link.",
        );
        expect((await ctx.passes.get(uuidOf(form)))?.isActive).toBe(false);
      }
      const client = ctx.client("manual");
      const form = await startAt(client);
      const sent = await submit(client, form, { ...GINGER, email: "ginger@example.com" });
      await sent.arrayBuffer();
      expect(sent.status).toBe(303);
      expect((await ctx.passes.get(uuidOf(form)))?.email).toBe("ginger@example.com");
    });
  },
);
