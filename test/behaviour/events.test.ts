import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import type { Visitor, VisitorAdmittedEvent } from "../../src/index.js";
import { HARNESSES } from "./harness.js";
import { click, matrix, newPass, useApp, uses } from "./support.js";

/** Everything the logger was told, by level. */
function recordingLogger() {
  const lines = { warn: [] as string[], error: [] as string[] };
  return {
    lines,
    logger: {
      warn: (line: string) => lines.warn.push(line),
      error: (line: string) => lines.error.push(line),
    },
  };
}

/** The events of the pass service, fired by requests through each framework's adapter. */
describe.each(matrix(HARNESSES))("events: %s", (_label, harness, database) => {
  describe.skipIf(!database.url)(`(${database.skipped ?? "configured"})`, () => {
    describe("what each request fires", () => {
      const ctx = useApp(harness, database);

      it("visitorAdmitted: once per admitting landing, spent or not; nothing for a refused one", async () => {
        const admitted: VisitorAdmittedEvent[] = [];
        const off = ctx.passes.on("visitorAdmitted", (event) => {
          admitted.push(event);
        });
        try {
          const visitor = await newPass(ctx.passes);
          const vera = ctx.client();
          expect((await click(vera, ctx.passes, visitor)).status).toBe(302);
          await vi.waitFor(() => expect(admitted).toHaveLength(1));
          expect(admitted[0]).toMatchObject({ visitor: { uuid: visitor.uuid }, spent: true });
          // The same link again in the session that holds it: admitted, no use spent.
          expect((await click(vera, ctx.passes, visitor)).status).toBe(302);
          await vi.waitFor(() => expect(admitted).toHaveLength(2));
          expect(admitted[1]).toMatchObject({ visitor: { uuid: visitor.uuid }, spent: false });
          // Visits of the admitted session, and a link that names no pass, fire nothing.
          expect((await vera.get("/reference")).status).toBe(200);
          await click(ctx.client(), ctx.passes, randomUUID());
          await ctx.passes.flush();
          expect(admitted).toHaveLength(2);
        } finally {
          off();
        }
      });

      it("visitorCleared: once, when clearVisitor() ends a session's access", async () => {
        const cleared: Visitor[] = [];
        const handler = (visitor: Visitor) => {
          cleared.push(visitor);
        };
        ctx.passes.on("visitorCleared", handler);
        try {
          const visitor = await newPass(ctx.passes);
          const vera = ctx.client();
          await click(vera, ctx.passes, visitor);
          expect((await vera.post("/reference/finish")).status).toBe(200);
          await vi.waitFor(() => expect(cleared).toHaveLength(1));
          expect(cleared[0]?.uuid).toBe(visitor.uuid);
          // The session holds nothing now: refused, and nothing more to clear.
          expect((await vera.post("/reference/finish")).status).toBe(403);
          await ctx.passes.flush();
          expect(cleared).toHaveLength(1);
        } finally {
          ctx.passes.off("visitorCleared", handler);
        }
      });

      it("passDeactivated: once per pass turned off, not for one already off", async () => {
        const deactivated: Visitor[] = [];
        const off = ctx.passes.on("passDeactivated", (visitor) => {
          deactivated.push(visitor);
        });
        try {
          const visitor = await newPass(ctx.passes);
          const vera = ctx.client();
          await click(vera, ctx.passes, visitor);
          await ctx.passes.deactivate(visitor.uuid);
          await ctx.passes.deactivate(visitor.uuid);
          await vi.waitFor(() => expect(deactivated).toHaveLength(1));
          expect(deactivated[0]).toMatchObject({ uuid: visitor.uuid, isActive: false });
          expect((await vera.get("/reference")).status).toBe(403);
          await ctx.passes.reactivate(visitor.uuid);
          await ctx.passes.deactivate(visitor.uuid);
          await vi.waitFor(() => expect(deactivated).toHaveLength(2));
        } finally {
          off();
        }
      });

      it("passFlaggedShared: once, when the visits of a third session are written", async () => {
        const flagged: { uuid: string; reasons: string[] }[] = [];
        const off = ctx.passes.on("passFlaggedShared", ({ visitor, signals }) => {
          flagged.push({ uuid: visitor.uuid, reasons: signals.reasons });
        });
        try {
          const visitor = await newPass(ctx.passes);
          const visit = async () => {
            const client = ctx.client();
            await click(client, ctx.passes, visitor);
            expect((await client.get("/reference")).status).toBe(200);
            expect((await client.get("/reference")).status).toBe(200);
            await ctx.passes.flush();
          };
          await visit();
          await visit();
          expect(flagged).toEqual([]);
          await visit();
          await vi.waitFor(() => expect(flagged).toHaveLength(1));
          expect(flagged[0]).toEqual({
            uuid: visitor.uuid,
            reasons: ["3 sessions (more than 2)"],
          });
          await visit();
          await ctx.passes.flush();
          expect(flagged).toHaveLength(1);
        } finally {
          off();
        }
      });
    });

    describe("a handler that fails", () => {
      const { lines, logger } = recordingLogger();
      const ctx = useApp(harness, database, { logger });

      it("changes no response: it is reported to the logger, and the other handlers still run", async () => {
        const seen: string[] = [];
        const offs = [
          ctx.passes.on("visitorAdmitted", () => {
            throw new Error("metrics are down");
          }),
          ctx.passes.on("visitorAdmitted", async () => {
            await Promise.resolve();
            throw new Error("mail server refused");
          }),
          ctx.passes.on("visitorAdmitted", ({ visitor }) => {
            seen.push(visitor.uuid);
          }),
          ctx.passes.on("visitorCleared", () => {
            throw new Error("audit log is full");
          }),
        ];
        try {
          const visitor = await newPass(ctx.passes);
          const vera = ctx.client("manual");
          const landing = await click(vera, ctx.passes, visitor);
          expect(landing.status).toBe(302);
          expect(landing.headers.get("location")).toBe("/reference");
          expect(await vera.json("/reference")).toMatchObject({
            status: 200,
            body: { visitor: visitor.uuid, isVisitor: true },
          });
          expect(await uses(ctx.passes, visitor.uuid)).toBe(1);
          const finish = await vera.post("/reference/finish");
          expect(finish.status).toBe(200);
          expect(await finish.text()).toBe("done");
          await vi.waitFor(() => expect(lines.error).toHaveLength(3));
          expect(seen).toEqual([visitor.uuid]);
          expect(lines.error).toEqual(
            expect.arrayContaining([
              'visitor-pass: a "visitorAdmitted" handler failed: Error: metrics are down',
              'visitor-pass: a "visitorAdmitted" handler failed: Error: mail server refused',
              'visitor-pass: a "visitorCleared" handler failed: Error: audit log is full',
            ]),
          );
        } finally {
          for (const off of offs) off();
        }
      });
    });
  });
});
