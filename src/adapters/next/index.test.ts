// Next's server environment first, as `next start` sets it up: next/headers needs it to load.
import "next/dist/server/node-environment.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VisitorPassConfigError } from "../../core/errors.js";
import { createVisitorPass, type VisitorPass } from "../../index.js";
import { MemoryStore } from "../../store/memory/memory-store.js";

const SECRET = "next-adapter-test-secret-of-32+chars!";

let passes: VisitorPass;
let adapter: typeof import("./index.js");

beforeAll(async () => {
  adapter = await import("./index.js");
  passes = createVisitorPass({ store: new MemoryStore(), env: {} });
  await passes.migrate();
});

afterAll(async () => {
  await passes.close();
});

describe("visitor-pass/next setup", () => {
  it("the top-level exports name what to do before visitorPassNext has run", async () => {
    await expect(adapter.proxy(new Request("http://app.test/"))).rejects.toMatchObject({
      code: "VISITOR_PASS_SETUP",
      message: expect.stringContaining("needs visitorPassNext(passes, …) to have run"),
    });
  });

  it("checks its options when it is called", () => {
    expect(() => adapter.visitorPassNext(passes, {})).toThrow(VisitorPassConfigError);
    expect(() => adapter.visitorPassNext(passes, {})).toThrow(/secret/);
    expect(() =>
      adapter.visitorPassNext(passes, { secret: SECRET, clientAddress: "x" as never }),
    ).toThrow(/clientAddress/);
    expect(() => adapter.visitorPassNext({} as VisitorPass, { secret: SECRET })).toThrow(
      /createVisitorPass/,
    );
  });

  it("withVisitor checks its guard when it wraps the route", () => {
    const route = () => new Response("ok");
    expect(() => adapter.withVisitor({ scope: "" }, route)).toThrow(/scope/);
    expect(() => adapter.withVisitor({ scope: "X", onRefused: 1 as never }, route)).not.toThrow();
    const vp = adapter.visitorPassNext(passes, { secret: SECRET });
    expect(() => vp.withVisitor({ scope: "X", onRefused: 1 as never }, route)).toThrow(/onRefused/);
  });

  it("once configured, the top-level proxy is the instance's: a landing redirects off its token", async () => {
    adapter.visitorPassNext(passes, { secret: SECRET });
    const visitor = await passes.create({
      email: "ada@example.com",
      scope: "REFERENCE_REQUEST",
    });
    const response = await adapter.proxy(
      new Request(`http://app.test/reference?a=1&vuid=${visitor.uuid}`),
    );
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("http://app.test/reference?a=1");
    expect(response.headers.getSetCookie()[0]).toMatch(/^visitor_pass=[\w-]+; Path=\/; HttpOnly/);
    expect((await passes.get(visitor.uuid))?.uses).toBe(1);
  });
});
