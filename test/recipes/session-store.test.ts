// docs/recipes/session-store.md: examples/recipes/session-store.ts against a real Redis and a
// real PostgreSQL (VISITOR_PASS_TEST_REDIS_URL, VISITOR_PASS_TEST_POSTGRES_URL; each skipped with
// the reason when its variable is unset, failing instead with VISITOR_PASS_REQUIRE_SERVICES=1).
// Two app instances share the store: Ginger admitted by one is known to the other, and the
// session in the store holds her pass.
import pg from "pg";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createApp,
  postgresSessions,
  redisSessions,
  type Sessions,
} from "../../examples/recipes/session-store.js";
import { createVisitorPass, type VisitorPass } from "../../src/index.js";
import { type Listening, listen } from "./support.js";

const SECRET = "r".repeat(32);

interface Backend {
  name: string;
  variable: string;
  open(url: string): Promise<Sessions>;
  /** The session `sid` as the store holds it, or null. */
  read(url: string, sid: string): Promise<Record<string, unknown> | null>;
}

const BACKENDS: Backend[] = [
  {
    name: "Redis",
    variable: "VISITOR_PASS_TEST_REDIS_URL",
    open: (url) => redisSessions(url, SECRET),
    async read(url, sid) {
      const client = createClient({ url });
      await client.connect();
      try {
        const value = await client.get(`app:sess:${sid}`);
        return value === null ? null : JSON.parse(value);
      } finally {
        await client.close();
      }
    },
  },
  {
    name: "PostgreSQL",
    variable: "VISITOR_PASS_TEST_POSTGRES_URL",
    open: async (url) => postgresSessions(url, SECRET),
    async read(url, sid) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query("select sess from session where sid = $1", [sid]);
        return rows[0]?.sess ?? null;
      } finally {
        await client.end();
      }
    },
  },
];

for (const backend of BACKENDS) {
  const url = process.env[backend.variable]?.trim() || null;
  const skipped = url ? null : `${backend.variable} is not set`;
  if (skipped && process.env.VISITOR_PASS_REQUIRE_SERVICES === "1") {
    throw new Error(`${skipped}, and VISITOR_PASS_REQUIRE_SERVICES=1 forbids skipping it.`);
  }
  if (skipped)
    console.warn(
      `[visitor-pass tests] SKIPPING session-store recipe (${backend.name}): ${skipped}.`,
    );

  describe.skipIf(skipped !== null)(
    `recipe: sessions in ${backend.name}${skipped ? ` (skipped: ${skipped})` : ""}`,
    () => {
      let passes: VisitorPass;
      let stores: Sessions[];
      let apps: Listening[];

      beforeAll(async () => {
        passes = createVisitorPass({ database: "sqlite::memory:", env: {} });
        await passes.migrate();
        stores = [await backend.open(url!), await backend.open(url!)];
        apps = [];
        for (const sessions of stores) apps.push(await listen(createApp(passes, sessions)));
      });
      afterAll(async () => {
        for (const app of apps ?? []) await app.close();
        for (const sessions of stores ?? []) await sessions.close();
        await passes?.close();
      });

      it("a visitor admitted by one process is known to the other, from the store", async () => {
        const visitor = await passes.create({
          email: "ginger@example.org",
          firstName: "Ginger",
          scope: "REFERENCE_REQUEST",
        });
        const [first, second] = apps as [Listening, Listening];
        const landing = await fetch(`${first.url}/reference?vuid=${visitor.uuid}`, {
          redirect: "manual",
        });
        expect(landing.status).toBe(302);
        const cookie = landing.headers.getSetCookie()[0]!.split(";")[0]!;

        const elsewhere = await fetch(`${second.url}/reference`, { headers: { cookie } });
        expect(elsewhere.status).toBe(200);
        expect(await elsewhere.text()).toBe("Hello Ginger");
        const anonymous = await fetch(`${second.url}/reference`);
        expect(anonymous.status).toBe(403);

        // connect.sid=s:<sid>.<signature>, URL-encoded
        const sid = /^s:([^.]+)\./.exec(decodeURIComponent(cookie.split("=")[1]!))?.[1];
        const stored = await backend.read(url!, sid!);
        expect(stored?.["visitor:session"]).toBe(visitor.uuid);
        expect(stored).toHaveProperty(["visitor:session:admitted"]);
      });
    },
  );
}
