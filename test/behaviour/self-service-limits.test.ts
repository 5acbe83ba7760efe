import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { VisitorPass } from "../../src/index.js";
import type { Client, ClientRequest } from "./client.js";
import { HARNESSES, REFERENCE_SCOPE } from "./harness.js";
import { SELF_SERVICE_PATH } from "./routes.js";
import { Clock, matrix, newPass, useApp } from "./support.js";

const FORM = new RegExp(`^${SELF_SERVICE_PATH}/self-service/([0-9a-f-]{36})$`);
const GINGER = { firstName: "Ginger", lastName: "Rogers", email: "ginger@example.org" };
const SAME_SITE = { "sec-fetch-site": "same-origin" };

function submit(
  client: Client,
  form: string,
  body: string | Record<string, string>,
  init: ClientRequest = {},
): Promise<Response> {
  return client.post(form, {
    ...init,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...SAME_SITE,
      ...(init.headers as Record<string, string> | undefined),
    },
    body: typeof body === "string" ? body : new URLSearchParams(body).toString(),
  });
}

/** A body sent without Content-Length (chunked), as a streaming client sends it. */
function chunked(text: string): ClientRequest {
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 8192)
        controller.enqueue(bytes.slice(at, at + 8192));
      controller.close();
    },
  });
  return { body, duplex: "half" } as ClientRequest;
}

/** GETs the self-service guard; the response, its body read. */
async function apply(client: Client, path = "/apply"): Promise<Response> {
  const response = await client.get(path, { redirect: "manual" });
  await response.arrayBuffer();
  return response;
}

async function startAt(client: Client, path = "/apply"): Promise<string> {
  const response = await apply(client, path);
  expect(response.status).toBe(302);
  const form = response.headers.get("location") ?? "";
  expect(form).toMatch(FORM);
  return form;
}

const uuidOf = (form: string) => FORM.exec(form)![1]!;

/** Pending passes of the reference scope (inactive, never claimed). */
async function pendingCount(passes: VisitorPass, redirectPrefix = ""): Promise<number> {
  const inactive = await passes.list({ scope: REFERENCE_SCOPE, active: false, limit: 1000 });
  return inactive.filter(
    (visitor) =>
      visitor.isSelfService &&
      visitor.email === "" &&
      String(visitor.context?.redirectTo ?? "").startsWith(redirectPrefix),
  ).length;
}

/** What anonymous clients can make the self-service pages store, and how much: every adapter, every database. */
describe.each(matrix(HARNESSES))("self-service limits: %s", (_label, harness, database) => {
  describe.skipIf(!database.url)(`(${database.skipped ?? "configured"})`, () => {
    describe("with the default throttle", () => {
      const ctx = useApp(harness, database);

      it("one client network creates 10 pending passes a minute; the 11th request is 429 with Retry-After, and stores nothing", async () => {
        const before = await pendingCount(ctx.passes);
        const forms: string[] = [];
        for (let i = 0; i < 10; i++)
          forms.push(await startAt(ctx.client("manual"), `/apply?n=${i}`));
        expect(await pendingCount(ctx.passes)).toBe(before + 10);

        const over = await ctx.client("manual").get("/apply?n=10", { redirect: "manual" });
        expect(over.status).toBe(429);
        const retryAfter = Number(over.headers.get("retry-after"));
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        // The harness renders errors as JSON, as an app's own error handler would.
        expect(await over.json()).toMatchObject({
          error: "VisitorPassThrottled",
          status: 429,
          code: "VISITOR_PASS_THROTTLED",
        });
        expect(await pendingCount(ctx.passes)).toBe(before + 10);

        // The form has a budget of its own: a pass created before the limit is still completed.
        const sent = await submit(ctx.client("manual"), forms[0]!, GINGER);
        await sent.arrayBuffer();
        expect(sent.status).toBe(303);
      });
    });

    describe("with room for a few", () => {
      const clock = new Clock();
      afterEach(() => clock.reset());
      const ctx = useApp(harness, database, {
        now: clock.now,
        tokenExpiry: 300,
        throttle: { selfService: { points: 3, duration: 60 }, selfServiceForm: false },
      });

      it("the same session asking again gets its pending pass again, even over the limit; another page gets another", async () => {
        const before = await pendingCount(ctx.passes);
        const client = ctx.client("manual");
        const form = await startAt(client, "/apply?topic=a");
        expect(await startAt(client, "/apply?topic=a")).toBe(form);
        expect(await pendingCount(ctx.passes)).toBe(before + 1);
        expect(await ctx.passes.get(uuidOf(form))).toMatchObject({
          isActive: false,
          context: { selfService: true, redirectTo: "/apply?topic=a" },
        });

        const other = await startAt(client, "/apply?topic=b");
        expect(other).not.toBe(form);
        await startAt(ctx.client("manual"), "/apply?topic=a");
        expect(await pendingCount(ctx.passes)).toBe(before + 3);
        // The network's budget is spent, but this session's pending pass is still its own.
        expect((await apply(ctx.client("manual"), "/apply?topic=a")).status).toBe(429);
        expect(await startAt(client, "/apply?topic=b")).toBe(other);
        expect(await startAt(client, "/apply?topic=b")).toBe(other);
        expect(await pendingCount(ctx.passes)).toBe(before + 3);
      });
    });

    describe("reuse ends with the pending pass", () => {
      const clock = new Clock();
      afterEach(() => clock.reset());
      const ctx = useApp(harness, database, { now: clock.now, tokenExpiry: 300, throttle: false });

      it("a completed or expired pending pass is not handed out again", async () => {
        const client = ctx.client("manual");
        const form = await startAt(client);
        const sent = await submit(client, form, GINGER);
        await sent.arrayBuffer();
        expect(sent.status).toBe(303);
        const next = await startAt(client);
        expect(next).not.toBe(form);
        clock.advance(301);
        const fresh = await startAt(client);
        expect(fresh).not.toBe(next);
        expect((await client.get(fresh)).status).toBe(200);
      });

      it("with throttle: false, one network may create more than the default bound", async () => {
        // Counted by their own pages: the previous test's expired passes may be swept meanwhile.
        for (let i = 0; i < 12; i++) await startAt(ctx.client("manual"), `/apply?n=${i}`);
        expect(await pendingCount(ctx.passes, "/apply?n=")).toBe(12);
      });

      it("a URL over 2 kB is refused with 414 and stores nothing; one of 2 kB is kept whole", async () => {
        const long = `/apply?q=${"a".repeat(3000)}`;
        const refused = await ctx.client("manual").get(long, { redirect: "manual" });
        expect(refused.status).toBe(414);
        expect(await refused.json()).toMatchObject({
          error: "VisitorPassUriTooLong",
          code: "VISITOR_PASS_URI_TOO_LONG",
        });
        expect(await pendingCount(ctx.passes, "/apply?q=")).toBe(0);

        const fits = `/apply?q=${"a".repeat(2048 - "/apply?q=".length)}`;
        const form = await startAt(ctx.client("manual"), fits);
        expect((await ctx.passes.get(uuidOf(form)))?.context).toEqual({
          selfService: true,
          redirectTo: fits,
        });
      });

      it("a form post over 16 kB is 413, with or without Content-Length, and the pass stays unclaimed", async () => {
        const client = ctx.client("manual");
        const form = await startAt(client);
        const big = new URLSearchParams({ ...GINGER, padding: "x".repeat(90_000) }).toString();
        const declared = await submit(client, form, big);
        expect(declared.status).toBe(413);
        await declared.arrayBuffer();
        const streamed = await client.post(form, {
          headers: { "content-type": "application/x-www-form-urlencoded", ...SAME_SITE },
          ...chunked(big),
        });
        expect(streamed.status).toBe(413);
        await streamed.arrayBuffer();
        // Whatever the type: an app's own JSON parser does not make a large body acceptable.
        const json = await client.post(form, {
          headers: { "content-type": "application/json", ...SAME_SITE },
          body: JSON.stringify({ ...GINGER, padding: "x".repeat(90_000) }),
        });
        expect(json.status).toBe(413);
        await json.arrayBuffer();
        expect(await ctx.passes.get(uuidOf(form))).toMatchObject({ isActive: false, email: "" });
        // A form of ordinary size still goes through.
        const sent = await submit(client, form, GINGER);
        await sent.arrayBuffer();
        expect(sent.status).toBe(303);
      });

      it("names with NUL or escape codes re-render the form with a field error (never a 5xx) and store nothing", async () => {
        const client = ctx.client("manual");
        const form = await startAt(client);
        for (const fields of [
          { ...GINGER, firstName: "Gin\u0000ger" },
          { ...GINGER, lastName: "Rogers\u001b[2J" },
          { ...GINGER, firstName: "Gin\u009bger" },
        ]) {
          const page = await submit(client, form, fields);
          expect(page.status).toBe(200);
          const html = await page.text();
          expect(html).toContain("control characters");
          expect(html).toContain('aria-invalid="true"');
          expect(html).not.toMatch(/postgres|mysql|sqlite|invalid byte sequence/i);
        }
        expect(await ctx.passes.get(uuidOf(form))).toMatchObject({ isActive: false, email: "" });
      });

      it("an expired pending pass is deleted by a later self-service request, without purge(); other passes stay", async () => {
        const stale = uuidOf(await startAt(ctx.client("manual"), "/apply?stale"));
        const expiredOrdinary = await newPass(ctx.passes, {
          expiresAt: new Date(Date.now() - 1000),
        });
        clock.advance(301 + 30);
        const fresh = uuidOf(await startAt(ctx.client("manual"), "/apply?fresh"));
        const deadline = Date.now() + 3000;
        while ((await ctx.passes.get(stale)) !== null && Date.now() < deadline) await sleep(20);
        expect(await ctx.passes.get(stale)).toBeNull();
        expect(await ctx.passes.get(fresh)).toMatchObject({ isActive: false });
        expect(await ctx.passes.get(expiredOrdinary.uuid)).not.toBeNull();
      });
    });

    describe("form posts over their budget", () => {
      const ctx = useApp(harness, database, {
        throttle: { selfService: false, selfServiceForm: { points: 3, duration: 60 } },
      });

      it("the 4th post from one network in a minute is a 429 page with Retry-After, and claims nothing", async () => {
        const client = ctx.client("manual");
        const form = await startAt(client);
        for (let i = 0; i < 3; i++) {
          const page = await submit(client, form, { ...GINGER, email: "nobody" });
          await page.arrayBuffer();
          expect(page.status).toBe(200);
        }
        const over = await submit(client, form, GINGER);
        expect(over.status).toBe(429);
        expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(over.headers.get("content-type")).toMatch(/^text\/html/);
        expect(await over.text()).toContain("Too many requests came from your network");
        expect(await ctx.passes.get(uuidOf(form))).toMatchObject({ isActive: false, email: "" });
      });
    });

    describe("the app's throttledPage", () => {
      const ctx = useApp(harness, database, {
        throttle: { selfService: false, selfServiceForm: { points: 1, duration: 60 } },
        throttledPage: ({ retryAfter }) => `<!doctype html><p>Form closed for ${retryAfter} s.</p>`,
      });

      it("is the 429 page of a form post over its budget", async () => {
        const client = ctx.client("manual");
        const form = await startAt(client);
        await (await submit(client, form, { ...GINGER, email: "nobody" })).arrayBuffer();
        const over = await submit(client, form, GINGER);
        expect(over.status).toBe(429);
        const retryAfter = Number(over.headers.get("retry-after"));
        expect(await over.text()).toContain(`<p>Form closed for ${retryAfter} s.</p>`);
      });
    });
  });
});
