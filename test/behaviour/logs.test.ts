import { describe, expect, it } from "vitest";
import type { VisitorLog } from "../../src/index.js";
import type { Client } from "./client.js";
import { HARNESSES } from "./harness.js";
import { type AppContext, matrix, newPass, useApp } from "./support.js";

const AGENT = "BehaviourSuite/1.0 (+logs)";
const REFERER = "https://mail.example/inbox";
const LOOPBACK = ["127.0.0.1", "::ffff:127.0.0.1"];

async function sessionId(ctx: AppContext, client: Client): Promise<string> {
  const cookie = await client.cookie(ctx.app.sessionCookie);
  expect(cookie).toBeTruthy();
  const id = ctx.app.sessionIdOf(cookie!);
  expect(id).toBeTruthy();
  return id!;
}

/** Visit logs: on every database. */
describe.each(matrix(HARNESSES))("visit logs: %s", (_label, harness, database) => {
  describe.skipIf(!database.url)(`(${database.skipped ?? "configured"})`, () => {
    describe("with the landing redirect", () => {
      const ctx = useApp(harness, database);

      it("writes one log per admitted guarded visit, with what the request was", async () => {
        const visitor = await newPass(ctx.passes);
        const client = ctx.client("manual");
        const headers = { "user-agent": AGENT };
        const landing = await client.get(`/reference?x=1&vuid=${visitor.uuid}&y=2`, {
          headers: { ...headers, referer: REFERER },
        });
        expect(landing.status).toBe(302);
        // The landing itself is a redirect, not a visit.
        expect(await ctx.passes.logs(visitor.uuid)).toEqual([]);

        expect((await client.get("/reference?x=1&y=2", { headers })).status).toBe(200);
        expect((await client.get("/teapot?z=3", { headers })).status).toBe(418);
        expect((await client.post("/reference", { headers })).status).toBe(200);
        expect((await client.get("/nolog", { headers })).status).toBe(200);
        expect((await client.get("/whoami", { headers })).status).toBe(200);

        const sid = await sessionId(ctx, client);
        const logs = await ctx.passes.logs(visitor.uuid);
        expect(logs).toHaveLength(3);
        const [post, teapot, first] = logs as [VisitorLog, VisitorLog, VisitorLog];
        expect(first).toMatchObject({
          visitorId: visitor.id,
          sessionKey: sid,
          httpMethod: "GET",
          requestUri: "/reference",
          queryString: "x=1&y=2",
          httpUserAgent: AGENT,
          httpReferer: REFERER,
          statusCode: 200,
        });
        expect(LOOPBACK).toContain(first.remoteAddr);
        expect(first.timestamp).toBeInstanceOf(Date);
        expect(teapot).toMatchObject({
          sessionKey: sid,
          httpMethod: "GET",
          requestUri: "/teapot",
          queryString: "z=3",
          httpReferer: null,
          statusCode: 418,
        });
        expect(post).toMatchObject({
          sessionKey: sid,
          httpMethod: "POST",
          requestUri: "/reference",
          queryString: "",
          httpReferer: null,
          statusCode: 200,
        });
        for (const log of logs) expect(JSON.stringify(log)).not.toContain(visitor.uuid);
      });

      it("a refused visit writes no log", async () => {
        const visitor = await newPass(ctx.passes, { scope: "OTHER_SCOPE" });
        const client = ctx.client();
        await client.get(ctx.passes.tokenise("/whoami", visitor));
        expect((await client.get("/reference")).status).toBe(403);
        expect((await client.get("/any")).status).toBe(200);
        const logs = await ctx.passes.logs(visitor.uuid);
        expect(logs.map((log) => [log.requestUri, log.statusCode])).toEqual([["/any", 200]]);
      });
    });

    describe("landingRedirect: false", () => {
      const ctx = useApp(harness, database, { landingRedirect: false });

      it("answers the landing directly, admitted, and logs it without the token", async () => {
        const visitor = await newPass(ctx.passes);
        const client = ctx.client("manual");
        const landing = await client.json(`/reference?x=1&vuid=${visitor.uuid}&y=2`, {
          headers: { "user-agent": AGENT, referer: REFERER },
        });
        expect(landing).toEqual({
          status: 200,
          body: { visitor: visitor.uuid, isVisitor: true, fullName: visitor.fullName },
        });
        const sid = await sessionId(ctx, client);
        const logs = await ctx.passes.logs(visitor.uuid);
        expect(logs).toHaveLength(1);
        expect(logs[0]).toMatchObject({
          sessionKey: sid,
          httpMethod: "GET",
          requestUri: "/reference",
          queryString: "x=1&y=2",
          httpUserAgent: AGENT,
          httpReferer: REFERER,
          statusCode: 200,
        });
        expect((await client.json("/reference")).body).toMatchObject({ visitor: visitor.uuid });
      });
    });

    describe("logVisits: false", () => {
      const ctx = useApp(harness, database, { logVisits: false, onLogFailure: "refuse" });

      it("admits as before and writes no visit log, whatever the route", async () => {
        const visitor = await newPass(ctx.passes);
        const client = ctx.client();
        for (const path of ["/reference", "/any", "/teapot", "/nolog"]) {
          const { status, body } = await client.json(ctx.passes.tokenise(path, visitor));
          expect(status).toBe(path === "/teapot" ? 418 : 200);
          expect(body).toMatchObject({ visitor: visitor.uuid, isVisitor: true });
        }
        expect((await client.post("/reference")).status).toBe(200);
        await ctx.passes.flush();
        expect(await ctx.passes.logs(visitor.uuid)).toEqual([]);
        expect(await ctx.passes.visitCounts([visitor.id])).toEqual(new Map([[visitor.id, 0]]));
      });
    });

    for (const [mode, expected] of [
      ["truncate", "127.0.0.0"],
      ["drop", null],
    ] as const) {
      describe(`anonymizeIp: "${mode}"`, () => {
        const ctx = useApp(harness, database, { anonymizeIp: mode });

        it(`stores the address as ${expected}`, async () => {
          const visitor = await newPass(ctx.passes);
          const client = ctx.client();
          expect((await client.get(ctx.passes.tokenise("/reference", visitor))).status).toBe(200);
          const logs = await ctx.passes.logs(visitor.uuid);
          expect(logs).toHaveLength(1);
          expect(logs[0]!.remoteAddr).toBe(expected);
        });
      });
    }
  });
});
