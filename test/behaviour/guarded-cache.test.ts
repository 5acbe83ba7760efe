import { describe, expect, it } from "vitest";
import { HARNESSES } from "./harness.js";
import { OWN_CACHE_CONTROL } from "./routes.js";
import { click, newPass, SQLITE, useApp } from "./support.js";

/**
 * A guarded page is one visitor's: a shared cache must not serve it to another. Responses a
 * guard admitted say `Cache-Control: private, no-store` unless the route set its own.
 */
describe.each(HARNESSES)("guarded responses and shared caches: $name", (harness) => {
  describe("by default", () => {
    const ctx = useApp(harness, SQLITE);

    it("an admitted visit is private, no-store; a route's own Cache-Control wins", async () => {
      const visitor = await newPass(ctx.passes);
      const vera = ctx.client("manual");
      await click(vera, ctx.passes, visitor);
      for (const path of ["/reference", "/any", "/teapot", "/nolog"]) {
        const response = await vera.get(path);
        await response.arrayBuffer();
        expect(response.status).toBeLessThan(500);
        expect(response.headers.get("cache-control")).toBe("private, no-store");
      }
      const own = await vera.get("/own-cache");
      expect(own.status).toBe(200);
      expect(own.headers.get("cache-control")).toBe(OWN_CACHE_CONTROL);
    });

    it("so is a bypassed one; refused and unguarded responses are left alone", async () => {
      const client = ctx.client("manual");
      const staff = await client.get("/staff", { headers: { "x-staff": "yes" } });
      expect(staff.status).toBe(200);
      expect(staff.headers.get("cache-control")).toBe("private, no-store");
      const refused = await client.get("/reference");
      expect(refused.status).toBe(403);
      expect(refused.headers.get("cache-control")).not.toBe("private, no-store");
      const open = await client.get("/public");
      expect(open.status).toBe(200);
      expect(open.headers.get("cache-control")).toBeNull();
    });
  });

  describe("guardCacheControl: false", () => {
    const ctx = useApp(harness, SQLITE, { guardCacheControl: false });

    it("leaves caching of guarded pages to the app", async () => {
      const visitor = await newPass(ctx.passes);
      const vera = ctx.client("manual");
      await click(vera, ctx.passes, visitor);
      const response = await vera.get("/reference");
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBeNull();
    });
  });
});
