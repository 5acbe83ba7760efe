import { describe, expect, it } from "vitest";
import { HARNESSES } from "./harness.js";
import { click, newPass, SQLITE, useApp } from "./support.js";

/**
 * A pass narrowed to one resource: `/references/:id` is guarded with `match: ownReference`
 * (routes.ts), which admits the reference the pass's context names and nothing else, and throws
 * for `?explode`. Decided by the core, so every adapter answers alike.
 */
describe.each(HARNESSES)("a guard's match: $name", (harness) => {
  const errors: string[] = [];
  const lines: string[] = [];
  const ctx = useApp(harness, SQLITE, {
    logger: {
      warn() {},
      error: (message) => errors.push(message),
      debug: (message) => lines.push(message),
    },
  });

  it("admits Ginger to reference 42 and refuses 43 with 403, logging only the admitted visit", async () => {
    const ginger = await newPass(ctx.passes, { context: { referenceId: "42" } });
    const client = ctx.client("manual");
    expect((await click(client, ctx.passes, ginger, "/references/42")).status).toBe(302);

    const own = await client.json<{ visitor: string | null }>("/references/42");
    expect(own).toEqual({ status: 200, body: expect.objectContaining({ visitor: ginger.uuid }) });
    const other = await client.json("/references/43");
    expect(other).toEqual({
      status: 403,
      body: expect.objectContaining({ error: "VisitorAccessDenied", status: 403 }),
    });
    // The session still holds the pass: the refusal was of that resource only.
    expect((await client.get("/references/42")).status).toBe(200);

    const logs = await ctx.passes.logs(ginger.uuid);
    expect(logs.map((log) => [log.requestUri, log.statusCode])).toEqual([
      ["/references/42", 200],
      ["/references/42", 200],
    ]);
  });

  it("a match that throws refuses with 403 (fail closed), tells the logger, and logs no visit", async () => {
    const ginger = await newPass(ctx.passes, { context: { referenceId: "42" } });
    const client = ctx.client("manual");
    await click(client, ctx.passes, ginger, "/references/42");
    errors.length = 0;
    const exploded = await client.json("/references/42?explode=1");
    expect(exploded).toEqual({
      status: 403,
      body: expect.objectContaining({ error: "VisitorAccessDenied", status: 403 }),
    });
    expect(errors).toEqual([expect.stringContaining("the reference lookup failed")]);
    expect(errors[0]).not.toContain(ginger.uuid);
    expect(await ctx.passes.logs(ginger.uuid)).toEqual([]);
  });

  it("a pass of another scope is refused whatever its context says", async () => {
    const other = await newPass(ctx.passes, {
      scope: "OTHER_SCOPE",
      context: { referenceId: "42" },
    });
    const client = ctx.client("manual");
    await click(client, ctx.passes, other, "/references/42");
    expect((await client.get("/references/42")).status).toBe(403);
    expect(await ctx.passes.logs(other.uuid)).toEqual([]);
  });

  it("the debug lines tell the refusal by the match, naming the pass, never its token", async () => {
    const ginger = await newPass(ctx.passes, { context: { referenceId: "42" } });
    const client = ctx.client("manual");
    lines.length = 0;
    await click(client, ctx.passes, ginger, "/references/42");
    expect((await client.get("/references/43")).status).toBe(403);
    const pass = `pass ${ginger.id} (scope "${ginger.scope}")`;
    expect(lines).toContainEqual(expect.stringContaining(`admitted ${pass}`));
    expect(lines).toContainEqual(
      expect.stringMatching(/refused pass \d+ .*\(403\): the guard's match did not return true/),
    );
    expect(lines.filter((line) => line.includes("refused")).join("\n")).toContain(pass);
    for (const line of lines) expect(line).not.toContain(ginger.uuid);
  });
});
