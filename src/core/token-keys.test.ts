import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createVisitorPass, MalformedVisitorToken, type VisitorPass } from "../index.js";
import { flowOf } from "./visitor-pass.js";

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

describe('tokenStorage: "hash"', () => {
  let passes: VisitorPass;

  beforeEach(async () => {
    passes = createVisitorPass({ env: {}, database: "sqlite::memory:", tokenStorage: "hash" });
    await passes.migrate();
  });
  afterEach(() => passes.close());

  it("keeps only the digest: list() shows it, never the token", async () => {
    const visitor = await passes.create({ email: "ginger@example.org", scope: "REF" });
    const [listed] = await passes.list();
    expect(listed?.uuid).toBe(sha256(visitor.uuid));
    expect(listed?.uuid).not.toContain(visitor.uuid);
  });

  it("finds, deactivates and reactivates by token, carrying the token on the pass", async () => {
    const visitor = await passes.create({ email: "ginger@example.org", scope: "REF" });
    expect((await passes.get(visitor.uuid))?.uuid).toBe(visitor.uuid);
    expect((await passes.get(visitor.uuid.toUpperCase()))?.email).toBe("ginger@example.org");
    expect((await passes.deactivate(visitor.uuid))?.isActive).toBe(false);
    expect((await passes.reactivate(visitor.uuid))?.isActive).toBe(true);
  });

  it("accepts the stored digest too, so staff can act on a listed pass", async () => {
    const visitor = await passes.create({ email: "ginger@example.org", scope: "REF" });
    const digest = sha256(visitor.uuid);
    expect((await passes.deactivate(digest))?.isActive).toBe(false);
    expect((await passes.get(digest))?.email).toBe("ginger@example.org");
  });

  it("admits by token, and a digest on the query string is not a token", async () => {
    const visitor = await passes.create({ email: "ginger@example.org", scope: "REF" });
    const flow = flowOf(passes, "test()");
    const landing = { method: "GET", userAgent: null, referer: null, ip: null };
    expect(
      await flow.recognise({ ...landing, url: `/x?vuid=${visitor.uuid}` }, null, {
        authenticated: false,
      }),
    ).toMatchObject({
      kind: "continue",
      visitor: { uuid: visitor.uuid },
      recognition: { kind: "admitted" },
    });
    expect(
      await flow.recognise({ ...landing, url: `/x?vuid=${sha256(visitor.uuid)}` }, null, {
        authenticated: false,
      }),
    ).toMatchObject({ kind: "respond", status: 400, body: new MalformedVisitorToken().message });
  });

  it("still refuses strings that are neither a token nor a digest", async () => {
    await expect(passes.get("nope")).rejects.toBeInstanceOf(MalformedVisitorToken);
  });
});

describe('tokenStorage: "plain"', () => {
  it("does not accept a digest as a token", async () => {
    const passes = createVisitorPass({ env: {}, database: "sqlite::memory:" });
    await passes.migrate();
    await expect(passes.get(sha256("x"))).rejects.toBeInstanceOf(MalformedVisitorToken);
    await passes.close();
  });
});
