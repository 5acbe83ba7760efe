import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VisitorPass } from "../../src/index.js";
import { KyselyStore } from "../../src/store/kysely/kysely-store.js";
import { Client } from "../behaviour/client.js";
import { HARNESSES, type RunningApp } from "../behaviour/harness.js";
import { DATABASES, openPasses } from "../support/databases.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

/** The same database URL, reached through `port` on this machine. */
function through(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = "127.0.0.1";
  parsed.port = String(port);
  return parsed.toString();
}

/** The deadline the apps here are given, in ms (the default is 2000). */
const STORE_TIMEOUT = 500;
/** What a refusal may take at most: the deadline, and a generous margin for a loaded machine. */
const REFUSED_WITHIN = 3000;
/** A request is given up after this long: without a deadline it would wait for the network. */
const GIVE_UP = 8000;

const servers = DATABASES.filter((database) => database.name !== "sqlite");

/** `[label, harness, database]` for every framework on PostgreSQL and MariaDB. */
const cases = HARNESSES.flatMap((harness) =>
  servers.map((database) => [`${harness.name} on ${database.name}`, harness, database] as const),
);

async function timed(request: Promise<Response>) {
  const started = performance.now();
  const response = await request;
  const body = await response.text();
  const location = response.headers.get("location");
  return { status: response.status, body, location, ms: performance.now() - started };
}

describe.each(cases)("a silent network partition: %s", (_label, harness, database) => {
  let proxy: TcpProxy;
  let passes: VisitorPass;
  let cleanup: () => Promise<void>;
  let app: RunningApp;

  beforeAll(async () => {
    if (!database.url) return;
    const target = new URL(database.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    ({ passes, cleanup } = await openPasses(
      { ...database, url: through(database.url, proxy.port) },
      // No pass cache: every guarded request needs the database.
      { storeTimeout: STORE_TIMEOUT, passCache: false },
    ));
    app = await harness.start(passes);
  });

  afterAll(async () => {
    if (!database.url) return;
    proxy.heal();
    await app.close();
    await cleanup();
    await proxy.close();
  });

  it.skipIf(!database.url)(
    "answers 503 within the deadline while packets are dropped, keeps public routes up, and recovers",
    async () => {
      const ginger = await passes.create({
        email: "ginger@example.org",
        scope: "REFERENCE_REQUEST",
        firstName: "Ginger",
      });
      const fred = await passes.create({ email: "fred@example.org", scope: "REFERENCE_REQUEST" });
      const visitor = new Client(app.url);
      const get = (client: Client, path: string) =>
        timed(client.get(path, { redirect: "manual", signal: AbortSignal.timeout(GIVE_UP) }));
      const landed = await visitor.get(`/reference?vuid=${ginger.uuid}`);
      expect(landed.status).toBe(200);
      expect((await get(visitor, "/reference")).status).toBe(200);
      // A self-service form, opened before the partition.
      const applicant = new Client(app.url);
      const { status, location: form } = await get(applicant, "/apply");
      expect(status).toBe(302);
      expect(form).toMatch(/^\/visitors\//);

      proxy.blackhole();

      // Twice as many at once as the pool has connections, then again: connections stuck in an
      // unanswered query neither hold requests up nor stay in the pool.
      for (let round = 0; round < 2; round++) {
        const guarded = await Promise.all(
          Array.from({ length: 20 }, () => get(visitor, "/reference")),
        );
        for (const response of guarded) {
          expect(response.status).toBe(503);
          expect(JSON.parse(response.body).error).toBe("VisitorPassUnavailable");
          expect(response.ms).toBeLessThan(REFUSED_WITHIN);
        }
      }
      const newcomer = await get(new Client(app.url), `/reference?vuid=${fred.uuid}`);
      expect(newcomer.status).toBe(503);
      expect(newcomer.ms).toBeLessThan(REFUSED_WITHIN);
      // Self-service: starting a form (creating its pending pass), and a form opened before.
      const stranger = await get(new Client(app.url), "/apply");
      expect(stranger.status).toBe(503);
      expect(stranger.ms).toBeLessThan(REFUSED_WITHIN);
      const formPage = await get(applicant, form!);
      expect(formPage.status).toBe(503);
      expect(formPage.ms).toBeLessThan(REFUSED_WITHIN);
      const home = await get(new Client(app.url), "/public");
      expect(home.status).toBe(200);
      expect(home.ms).toBeLessThan(REFUSED_WITHIN);
      const visitorHome = await get(visitor, "/public");
      expect(visitorHome.status).toBe(200);
      expect(visitorHome.ms).toBeLessThan(REFUSED_WITHIN);

      proxy.heal();

      // Back within a few seconds, on fresh connections, and staying back.
      const backBy = performance.now() + 5000;
      let back = await get(visitor, "/reference");
      while (back.status !== 200 && performance.now() < backBy) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        back = await get(visitor, "/reference");
      }
      expect(back.status).toBe(200);
      expect(JSON.parse(back.body).fullName).toBe("Ginger");
      const after = await Promise.all(Array.from({ length: 20 }, () => get(visitor, "/reference")));
      expect(after.map((response) => response.status)).toEqual(Array(20).fill(200));
      expect((await get(applicant, form!)).status).toBe(200);
      const landing = await new Client(app.url).get(`/reference?vuid=${fred.uuid}`);
      expect(landing.status).toBe(200);
      // The landing refused during the partition spent nothing: its queries never arrived.
      expect((await passes.get(fred.uuid))?.uses).toBe(1);
    },
  );
});

describe.each(servers)(
  "a connection cut after a batch of visit logs committed: $name",
  (database) => {
    let proxy: TcpProxy;
    let passes: VisitorPass;
    let prefix: string;
    let cleanup: () => Promise<void>;
    let app: RunningApp;
    let direct: KyselyStore;

    beforeAll(async () => {
      if (!database.url) return;
      const target = new URL(database.url);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
      ({ passes, prefix, cleanup } = await openPasses(
        { ...database, url: through(database.url, proxy.port) },
        { storeTimeout: STORE_TIMEOUT, passCache: false },
      ));
      // The same tables, not through the proxy.
      direct = new KyselyStore(
        { kind: database.name as "postgres" | "mysql", url: database.url },
        prefix,
      );
      app = await HARNESSES[0]!.start(passes);
    });

    afterAll(async () => {
      if (!database.url) return;
      await app.close();
      await cleanup();
      await direct.close();
      await proxy.close();
    });

    it.skipIf(!database.url)(
      "writes each visit exactly once when the batch is written again",
      async () => {
        const pass = await passes.create({ email: "once@example.org", scope: "REFERENCE_REQUEST" });
        const visitor = new Client(app.url);
        expect((await visitor.get(`/reference?vuid=${pass.uuid}`)).status).toBe(200);
        expect(await passes.logs(pass.uuid)).toHaveLength(1);

        // The next insert of logs goes through and commits; its reply never comes back.
        const answered = proxy.dropRepliesAfter(`${prefix}visitor_logs`);
        for (let n = 0; n < 5; n++) {
          expect((await visitor.get(`/reference?n=${n}`)).status).toBe(200);
        }
        await Promise.race([
          answered,
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error("no insert of logs went through")), GIVE_UP),
          ),
        ]);
        expect((await direct.logs(pass.id)).length).toBeGreaterThan(1);
        // The connection drops before the reply: the writer cannot know the batch is stored.
        await proxy.cut();
        await proxy.restore();

        // Closing writes everything still queued, trying again if need be.
        await passes.close();
        const logs = await direct.logs(pass.id);
        expect(logs.map((log) => log.queryString).sort()).toEqual([
          "",
          "n=0",
          "n=1",
          "n=2",
          "n=3",
          "n=4",
        ]);
      },
    );
  },
);
