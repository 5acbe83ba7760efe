import { describe, expect, it } from "vitest";
import { HARNESSES } from "./harness.js";
import { newPass, SQLITE, useApp } from "./support.js";

/**
 * Regression: a HEAD or OPTIONS request (a link scanner's) is not admitted, and its token must
 * still leave the URL the app sees, or the app's own request logger records it.
 */
describe.each(HARNESSES)("token on HEAD and OPTIONS: $name", (harness) => {
  const ctx = useApp(harness, SQLITE);

  it.each(["HEAD", "OPTIONS"])("%s: app middleware does not see the token", async (method) => {
    const visitor = await newPass(ctx.passes);
    const client = ctx.client("manual");
    const response = await client.request(`/seen-url?a=1&vuid=${visitor.uuid}`, { method });
    await response.arrayBuffer();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-seen-url")).toBe("/seen-url?a=1");
  });
});
