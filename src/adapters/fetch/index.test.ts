import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VisitorPassConfigError } from "../../core/errors.js";
import { createVisitorPass, type VisitorPass } from "../../index.js";
import { MemoryStore } from "../../store/memory/memory-store.js";
import {
  clearVisitor,
  type FetchVisitorPass,
  type GuardOptions,
  type HandleResult,
  visitorPassFetch,
} from "./index.js";

const SECRET = "fetch-adapter-test-secret-of-32+chars!";
const ORIGIN = "http://app.test";
const SCOPE = "REFERENCE_REQUEST";
const REFERENCE: GuardOptions<Request> = { scope: SCOPE };

let passes: VisitorPass;
let vp: FetchVisitorPass;

beforeEach(async () => {
  passes = createVisitorPass({ store: new MemoryStore(), env: {} });
  await passes.migrate();
  vp = visitorPassFetch(passes, { secret: SECRET });
});

afterEach(async () => {
  await passes.close();
});

function newPass(overrides: { maxUses?: number | null } = {}) {
  return passes.create({
    firstName: "Ada",
    lastName: "Lovelace",
    email: "ada@example.com",
    scope: SCOPE,
    ...overrides,
  });
}

function get(path: string, init: RequestInit = {}): Request {
  return new Request(new URL(path, ORIGIN), init);
}

/** The `name=value` part of each Set-Cookie of `response`, for a `Cookie` header. */
function cookieOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
}

function continued(result: HandleResult) {
  if (result.kind !== "continue") throw new Error(`expected to continue, got ${result.kind}`);
  return result;
}

function responded(result: HandleResult) {
  if (result.kind !== "respond") throw new Error(`expected a response, got ${result.kind}`);
  return result;
}

/** Lands with `?vuid=` and answers the stash cookie the landing set. */
async function land(uuid: string): Promise<string> {
  const { response } = responded(await vp.handle(get(`/reference?vuid=${uuid}`)));
  expect(response.status).toBe(302);
  return cookieOf(response);
}

describe("visitorPassFetch", () => {
  it("lets a request without a token go on, with no visitor and no cookie", async () => {
    const result = continued(await vp.handle(get("/public")));
    expect(result.visitor).toBeNull();
    const response = await result.finish(new Response("public"));
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await response.text()).toBe("public");
  });

  it("answers a landing with a 302 to the URL without its token, setting the stash cookie", async () => {
    const visitor = await newPass();
    const { response } = responded(await vp.handle(get(`/reference?a=1&vuid=${visitor.uuid}`)));
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/reference?a=1");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    const [cookie] = response.headers.getSetCookie();
    expect(cookie).toMatch(
      /^visitor_pass=[\w-]+(; Max-Age=\d+)?; Path=\/; HttpOnly; SameSite=Lax$/,
    );
    expect(cookie).not.toContain(visitor.uuid);
    expect((await passes.get(visitor.uuid))?.uses).toBe(1);
  });

  it("names the cookie __Host- and makes it Secure on https", async () => {
    const visitor = await newPass();
    const request = new Request(`https://app.test/reference?vuid=${visitor.uuid}`);
    const { response } = responded(await vp.handle(request));
    expect(response.headers.getSetCookie()[0]).toMatch(/^__Host-visitor_pass=.*; Secure; /);
  });

  it("restores the visitor from the cookie on the next request and admits it to its guard", async () => {
    const visitor = await newPass();
    const cookie = await land(visitor.uuid);
    const result = continued(
      await vp.handle(get("/reference", { headers: { cookie } }), { guard: REFERENCE }),
    );
    expect(result.visitor?.uuid).toBe(visitor.uuid);
    const response = await result.finish(Response.json({ ok: true }));
    expect(response.headers.get("cache-control")).toBe("private, no-store");
  });

  it("refuses a guarded request with 503 when an earlier step found the store failing", async () => {
    // A proxy before this step could not check the pass its token named: the page's guard,
    // which finds no visitor, refuses as unavailable rather than as denied.
    const refused = responded(
      await vp.handle(get("/reference"), { guard: REFERENCE, unavailable: true }),
    );
    expect(refused.response.status).toBe(503);
    expect(refused.error?.code).toBe("VISITOR_PASS_UNAVAILABLE");
    expect(
      responded(await vp.handle(get("/reference"), { guard: REFERENCE })).response.status,
    ).toBe(403);
    // Without a guard the request goes on, saying so for a later step.
    expect(continued(await vp.handle(get("/public"), { unavailable: true })).unavailable).toBe(
      true,
    );
    expect(continued(await vp.handle(get("/public"))).unavailable).toBe(false);
  });

  it("refuses a visitor of another scope with a 403 Response", async () => {
    const visitor = await newPass();
    const cookie = await land(visitor.uuid);
    const result = responded(
      await vp.handle(get("/other", { headers: { cookie } }), { guard: { scope: "OTHER" } }),
    );
    expect(result.response.status).toBe(403);
    expect(result.error?.name).toBe("VisitorAccessDenied");
    const anonymous = responded(await vp.handle(get("/reference"), { guard: REFERENCE }));
    expect(anonymous.response.status).toBe(403);
  });

  it("answers a token that is not a uuid with a 400", async () => {
    const { response } = responded(await vp.handle(get("/reference?vuid=not-a-uuid")));
    expect(response.status).toBe(400);
    expect(await response.text()).toBe("Malformed visitor token.");
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  it("lets a cross-site POST with a token go on without spending it or setting a cookie", async () => {
    const visitor = await newPass();
    const request = get(`/reference?vuid=${visitor.uuid}&vuid-confirm=1`, {
      method: "POST",
      headers: { origin: "https://evil.test", "sec-fetch-site": "cross-site" },
    });
    const result = continued(await vp.handle(request));
    expect(result.visitor).toBeNull();
    expect(new URL(result.request.url).search).toBe("?vuid-confirm=1");
    const response = await result.finish(new Response("ok"));
    expect(response.headers.get("set-cookie")).toBeNull();
    expect((await passes.get(visitor.uuid))?.uses).toBe(0);
  });

  it("hands the app a request without the token that keeps its method, headers and body", async () => {
    const visitor = await newPass();
    const request = get(`/form?vuid=${visitor.uuid}&x=1`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-app": "kept" },
      body: "text=hello",
    });
    const result = continued(await vp.handle(request));
    expect(result.visitor).toBeNull();
    expect(result.request.url).toBe(`${ORIGIN}/form?x=1`);
    expect(result.request.method).toBe("POST");
    expect(result.request.headers.get("x-app")).toBe("kept");
    expect((await result.request.formData()).get("text")).toBe("hello");
  });

  it("never admits a HEAD with a token", async () => {
    const visitor = await newPass();
    const result = continued(
      await vp.handle(get(`/reference?vuid=${visitor.uuid}`, { method: "HEAD" })),
    );
    expect(result.visitor).toBeNull();
    expect((await result.finish(new Response(null))).headers.get("set-cookie")).toBeNull();
    expect((await passes.get(visitor.uuid))?.uses).toBe(0);
  });

  it("clearVisitor ends the visitor's access: finish() empties the stash cookie", async () => {
    const visitor = await newPass();
    const cookie = await land(visitor.uuid);
    const result = continued(
      await vp.handle(get("/reference/finish", { headers: { cookie } }), { guard: REFERENCE }),
    );
    clearVisitor(result);
    const response = await result.finish(new Response("done"));
    const [cleared] = response.headers.getSetCookie();
    expect(cleared).toMatch(/^visitor_pass=; Max-Age=0; /);
    const bad = responded(await vp.handle(get("/x?vuid=bad")));
    expect(() => clearVisitor(bad)).toThrow(/clearVisitor\(\) needs/);
  });

  it("logs a guarded visit with the status of the response finish() got, the address given", async () => {
    const visitor = await newPass();
    const cookie = await land(visitor.uuid);
    const result = continued(
      await vp.handle(get("/reference?x=1", { headers: { cookie, "user-agent": "Test/1" } }), {
        guard: REFERENCE,
        clientAddress: "127.0.0.1",
      }),
    );
    await result.finish(new Response("teapot", { status: 418 }));
    const logs = await passes.logs(visitor.uuid);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      httpMethod: "GET",
      requestUri: "/reference",
      queryString: "x=1",
      httpUserAgent: "Test/1",
      remoteAddr: "127.0.0.1",
      statusCode: 418,
    });
  });

  it("completes a response whose headers are immutable by copying it", async () => {
    const visitor = await newPass();
    const cookie = await land(visitor.uuid);
    const result = continued(
      await vp.handle(get("/reference", { headers: { cookie } }), { guard: REFERENCE }),
    );
    const response = await result.finish(Response.redirect(`${ORIGIN}/elsewhere`, 302));
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${ORIGIN}/elsewhere`);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
  });

  it("lets a bypass through a guard, unlogged", async () => {
    const staff: GuardOptions<Request> = {
      scope: SCOPE,
      bypass: (request) => request.headers.get("x-staff") === "yes",
    };
    const result = continued(
      await vp.handle(get("/staff", { headers: { "x-staff": "yes" } }), { guard: staff }),
    );
    expect(result.visitor).toBeNull();
    expect((await result.finish(new Response("ok"))).status).toBe(200);
  });

  it("uses a server-side session instead of the cookie when given one", async () => {
    const store = new Map<string, string>();
    const session = {
      id: "server-session",
      get: (key: string) => store.get(key),
      set: (key: string, value: string) => void store.set(key, value),
      delete: (key: string) => void store.delete(key),
      setCookieLifetime: () => {},
      regenerate: async () => {},
    };
    const server = visitorPassFetch(passes, { session: () => session });
    const visitor = await newPass();
    const { response } = responded(await server.handle(get(`/reference?vuid=${visitor.uuid}`)));
    expect(response.status).toBe(302);
    expect(response.headers.get("set-cookie")).toBeNull();
    const result = continued(await server.handle(get("/reference"), { guard: REFERENCE }));
    expect(result.visitor?.uuid).toBe(visitor.uuid);
  });

  it("refuses a short secret, a bad cookie name and a guard without a scope with named errors", async () => {
    expect(() => visitorPassFetch(passes, { secret: "short" })).toThrow(VisitorPassConfigError);
    expect(() => visitorPassFetch(passes, { secret: SECRET, cookieName: "a b" })).toThrow(
      VisitorPassConfigError,
    );
    await expect(vp.handle(get("/"), { guard: { scope: "" } })).rejects.toThrow(
      VisitorPassConfigError,
    );
  });
});
