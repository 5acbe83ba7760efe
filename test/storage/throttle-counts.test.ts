import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { createGuard, type Guard } from "../../src/core/guard.js";
import type { VisitRequest } from "../../src/core/ports.js";
import type { VisitorFlow } from "../../src/core/request-flow.js";
import { flowOf } from "../../src/core/visitor-pass.js";
import {
  createVisitorPass,
  type VisitorPass,
  VisitorPassConfigError,
  type VisitorPassOptions,
  VisitorPassThrottled,
} from "../../src/index.js";
import { KyselyStore } from "../../src/store/kysely/kysely-store.js";
import { DATABASES } from "../support/databases.js";
import { onDisk, randomPrefix, removeSqliteFiles } from "./support.js";

afterAll(removeSqliteFiles);

const request = (ip: string): VisitRequest => ({
  method: "GET",
  url: "/reference",
  userAgent: "Mozilla/5.0",
  referer: null,
  ip,
  origin: null,
  secFetchSite: null,
  host: "app.example",
});

/** A landing with a token no pass has, from `ip`: refused (counted), or throttled. */
async function land(passes: VisitorPass, ip: string): Promise<string> {
  const result = await flowOf(passes, "test").recognise(
    { ...request(ip), url: passes.tokenise("/reference", randomUUID()) },
    null,
    { authenticated: false },
  );
  return result.kind === "continue" ? result.recognition.kind : `${result.status}`;
}

/** A guard with self-service met without a pass: the redirect to the form, or its refusal thrown. */
async function startSelfService(flow: VisitorFlow, visit: VisitRequest, guard: Guard<unknown>) {
  const result = await flow.guard(guard, {}, null, { visit, session: null, unavailable: null });
  if (result.kind === "respond" && result.error) throw result.error;
  return result.kind;
}

describe.each(DATABASES.map((database) => [database.name, database] as const))(
  'throttle: { store: "database" } on %s',
  (_name, database) => {
    it.skipIf(!database.url)(
      "keeps one budget per network in the pass database, shared by two pass services",
      async () => {
        const target = onDisk(database);
        const prefix = randomPrefix();
        const options: VisitorPassOptions = {
          env: {},
          database: target.url!,
          tablePrefix: prefix,
          throttle: {
            landing: { points: 2, duration: 60 },
            selfService: { points: 1, duration: 60 },
            store: "database",
          },
        };
        const one = createVisitorPass(options);
        const two = createVisitorPass(options);
        try {
          await one.migrate();
          expect(await land(one, "198.51.100.9")).toBe("refused");
          expect(await land(two, "198.51.100.77")).toBe("refused");
          // The same /24, counted by the other service: over the budget.
          expect(await land(one, "198.51.100.200")).toBe("429");
          expect(await land(two, "198.51.100.9")).toBe("429");
          // Another network has a budget of its own.
          expect(await land(two, "203.0.113.5")).toBe("refused");
          const guard = createGuard({ scope: "REF", selfService: true });
          await startSelfService(flowOf(two, "test"), request("192.0.2.1"), guard);
          await expect(
            startSelfService(flowOf(one, "test"), request("192.0.2.1"), guard),
          ).rejects.toBeInstanceOf(VisitorPassThrottled);
        } finally {
          await one.close();
          await two.close();
          if (database.name !== "sqlite") {
            const store = new KyselyStore(one.config.database, prefix);
            for (const table of [
              "throttle",
              "visitor_logs",
              "visitors",
              "migrations",
              "migrations_lock",
            ]) {
              await sql`drop table if exists ${sql.table(`${prefix}${table}`)}`.execute(store.db);
            }
            await store.close();
          }
        }
      },
    );
  },
);

describe('throttle: { store: "database" } refused where there is no database URL', () => {
  it("names the option for a store handed in", async () => {
    const { MemoryStore } = await import("../../src/store/memory/memory-store.js");
    expect(() =>
      createVisitorPass({ store: new MemoryStore(), env: {}, throttle: { store: "database" } }),
    ).toThrow(VisitorPassConfigError);
  });
});
