import { CompiledQuery, Migrator, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { visitSignals } from "../../src/core/sharing.js";
import { createVisitorPass, type SharingSignals, type Visitor } from "../../src/index.js";
import { KyselyStore } from "../../src/store/kysely/kysely-store.js";
import { migrations } from "../../src/store/kysely/migrations.js";
import { tableNames } from "../../src/store/kysely/schema.js";
import type { NewVisitorLog } from "../../src/store/store.js";
import { DATABASES, STORES } from "../support/databases.js";
import { dropTables, onDisk, randomPrefix, removeSqliteFiles, useStorage } from "./support.js";

afterAll(removeSqliteFiles);

const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const CHROME_ANDROID =
  "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
const SAFARI_IOS =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1";
const SAFARI_MAC =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15";
const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
const EDGE = `${CHROME} Edg/124.0.2478.51`;
const GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const OFFICE_SCANNER =
  "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident/6.0; Microsoft Outlook 15.0.5023; ms-office; MSOffice 15)";

/** One visit: its session, client address, user agent and time (UTC). */
type Visit = [session: string | null, ip: string | null, agent: string, at: string];

interface Seeded {
  email: string;
  scope: string;
  visits: Visit[];
  /** Logged before the `0002_visit_log_signals` migration: no network, no browser family. */
  legacy?: boolean;
}

/**
 * Links that were shared (several sessions, networks, browsers) and links that were not (one
 * person on one or two devices, a link scanned by mail security), by the key the tests use.
 */
const SEED = {
  // Forwarded widely: 6 sessions, 4 networks (two IPv6 addresses in one /48), 3 browsers.
  sharedA: {
    email: "shared-a@example.org",
    scope: "REPORT",
    visits: [
      ["s-a1", "203.0.113.10", CHROME, "2031-05-01T09:00:00.000Z"],
      ["s-a1", "203.0.113.11", CHROME, "2031-05-01T09:05:00.000Z"],
      ["s-a2", "198.51.100.20", SAFARI_IOS, "2031-05-02T10:00:00.000Z"],
      ["s-a3", "192.0.2.30", FIREFOX, "2031-05-03T11:00:00.000Z"],
      ["s-a4", "2001:db8:a::1", CHROME_ANDROID, "2031-05-04T12:00:00.000Z"],
      ["s-a5", "2001:db8:a:1::2", SAFARI_IOS, "2031-05-05T13:00:00.000Z"],
      ["s-a6", "::ffff:203.0.113.12", CHROME, "2031-05-06T14:00:00.000Z"],
    ],
  },
  // Shared in April; since May only one more person used it.
  sharedB: {
    email: "shared-b@example.org",
    scope: "REPORT",
    visits: [
      ["s-b1", "198.51.100.5", EDGE, "2031-04-20T08:00:00.000Z"],
      ["s-b2", "203.0.113.5", EDGE, "2031-04-21T08:00:00.000Z"],
      ["s-b3", "192.0.2.5", CHROME, "2031-05-03T08:00:00.000Z"],
      ["s-b4", "192.0.2.6", CHROME, "2031-05-07T08:00:00.000Z"],
    ],
  },
  // Three colleagues behind one office network.
  sharedC: {
    email: "shared-c@example.org",
    scope: "OTHER",
    visits: [
      ["s-c1", "203.0.113.40", CHROME, "2031-05-02T09:00:00.000Z"],
      ["s-c2", "203.0.113.41", FIREFOX, "2031-05-02T09:30:00.000Z"],
      ["s-c3", "203.0.113.42", EDGE, "2031-05-02T10:00:00.000Z"],
    ],
  },
  // Three sessions logged before the signals existed: only the sessions can be counted.
  legacy: {
    email: "legacy@example.org",
    scope: "REPORT",
    legacy: true,
    visits: [
      ["s-l1", "203.0.113.1", CHROME, "2031-05-03T07:00:00.000Z"],
      ["s-l2", "198.51.100.1", SAFARI_IOS, "2031-05-03T08:00:00.000Z"],
      ["s-l3", "192.0.2.1", FIREFOX, "2031-05-04T07:00:00.000Z"],
    ],
  },
  // One person: a laptop at home, a phone at work.
  phoneAndLaptop: {
    email: "phone-laptop@example.org",
    scope: "REPORT",
    visits: [
      ["s-p1", "203.0.113.77", CHROME, "2031-05-05T19:00:00.000Z"],
      ["s-p1", "203.0.113.77", CHROME, "2031-05-05T19:10:00.000Z"],
      ["s-p2", "198.51.100.77", SAFARI_IOS, "2031-05-06T09:00:00.000Z"],
    ],
  },
  // One person, one device, several visits.
  oneDevice: {
    email: "one-device@example.org",
    scope: "REPORT",
    visits: [
      ["s-o1", "192.0.2.99", FIREFOX, "2031-05-08T10:00:00.000Z"],
      ["s-o1", "192.0.2.99", FIREFOX, "2031-05-08T10:01:00.000Z"],
      ["s-o1", "192.0.2.99", FIREFOX, "2031-05-08T10:02:00.000Z"],
      ["s-o1", "192.0.2.99", FIREFOX, "2031-05-08T10:03:00.000Z"],
    ],
  },
  // One person, after a mail scanner and a crawler fetched the link from networks of their own.
  scanned: {
    email: "scanned@example.org",
    scope: "REPORT",
    visits: [
      [null, "40.94.0.1", OFFICE_SCANNER, "2031-05-04T06:59:00.000Z"],
      ["s-bot", "66.249.66.1", GOOGLEBOT, "2031-05-04T07:00:00.000Z"],
      ["s-s1", "203.0.113.88", SAFARI_MAC, "2031-05-04T07:01:00.000Z"],
      ["s-s1", "203.0.113.88", SAFARI_MAC, "2031-05-04T07:02:00.000Z"],
    ],
  },
  // Visited once, long ago.
  old: {
    email: "old@example.org",
    scope: "REPORT",
    visits: [["s-q1", "203.0.113.3", CHROME, "2031-04-01T12:00:00.000Z"]],
  },
  // Never visited.
  never: { email: "never@example.org", scope: "REPORT", visits: [] },
} satisfies Record<string, Seeded>;

type Key = keyof typeof SEED;

const at = (iso: string) => new Date(iso);

/** The counts each pass must show without `since`, as worked out by hand from SEED. */
const EXPECTED: Record<Exclude<Key, "never">, Omit<SharingSignals, "uuid" | "visitorId">> = {
  sharedA: {
    email: "shared-a@example.org",
    scope: "REPORT",
    visits: 7,
    sessions: 6,
    networks: 4,
    browsers: 3,
    withoutSession: 0,
    byCrawlers: 0,
    firstVisit: at("2031-05-01T09:00:00.000Z"),
    lastVisit: at("2031-05-06T14:00:00.000Z"),
    flagged: true,
    reasons: ["6 sessions (more than 2)", "4 networks (more than 2)", "3 browsers (more than 2)"],
  },
  sharedB: {
    email: "shared-b@example.org",
    scope: "REPORT",
    visits: 4,
    sessions: 4,
    networks: 3,
    browsers: 2,
    withoutSession: 0,
    byCrawlers: 0,
    firstVisit: at("2031-04-20T08:00:00.000Z"),
    lastVisit: at("2031-05-07T08:00:00.000Z"),
    flagged: true,
    reasons: ["4 sessions (more than 2)", "3 networks (more than 2)"],
  },
  sharedC: {
    email: "shared-c@example.org",
    scope: "OTHER",
    visits: 3,
    sessions: 3,
    networks: 1,
    browsers: 3,
    withoutSession: 0,
    byCrawlers: 0,
    firstVisit: at("2031-05-02T09:00:00.000Z"),
    lastVisit: at("2031-05-02T10:00:00.000Z"),
    flagged: true,
    reasons: ["3 sessions (more than 2)", "3 browsers (more than 2)"],
  },
  legacy: {
    email: "legacy@example.org",
    scope: "REPORT",
    visits: 3,
    sessions: 3,
    networks: 0,
    browsers: 0,
    withoutSession: 0,
    byCrawlers: 0,
    firstVisit: at("2031-05-03T07:00:00.000Z"),
    lastVisit: at("2031-05-04T07:00:00.000Z"),
    flagged: true,
    reasons: ["3 sessions (more than 2)"],
  },
  phoneAndLaptop: {
    email: "phone-laptop@example.org",
    scope: "REPORT",
    visits: 3,
    sessions: 2,
    networks: 2,
    browsers: 2,
    withoutSession: 0,
    byCrawlers: 0,
    firstVisit: at("2031-05-05T19:00:00.000Z"),
    lastVisit: at("2031-05-06T09:00:00.000Z"),
    flagged: false,
    reasons: [],
  },
  oneDevice: {
    email: "one-device@example.org",
    scope: "REPORT",
    visits: 4,
    sessions: 1,
    networks: 1,
    browsers: 1,
    withoutSession: 0,
    byCrawlers: 0,
    firstVisit: at("2031-05-08T10:00:00.000Z"),
    lastVisit: at("2031-05-08T10:03:00.000Z"),
    flagged: false,
    reasons: [],
  },
  scanned: {
    email: "scanned@example.org",
    scope: "REPORT",
    visits: 4,
    sessions: 1,
    networks: 1,
    browsers: 1,
    withoutSession: 1,
    byCrawlers: 2,
    firstVisit: at("2031-05-04T06:59:00.000Z"),
    lastVisit: at("2031-05-04T07:02:00.000Z"),
    flagged: false,
    reasons: [],
  },
  old: {
    email: "old@example.org",
    scope: "REPORT",
    visits: 1,
    sessions: 1,
    networks: 1,
    browsers: 1,
    withoutSession: 0,
    byCrawlers: 0,
    firstVisit: at("2031-04-01T12:00:00.000Z"),
    lastVisit: at("2031-04-01T12:00:00.000Z"),
    flagged: false,
    reasons: [],
  },
};

/** Flagged first, then most sessions, then the latest last visit. */
const FULL_ORDER: Key[] = [
  "sharedA",
  "sharedB",
  "legacy", // 3 sessions, last visit May 4…
  "sharedC", // …3 sessions, last visit May 2
  "phoneAndLaptop",
  "oneDevice", // 1 session, last visit May 8…
  "scanned", // …May 4…
  "old", // …April 1
];

const NOW = at("2031-05-10T12:00:00.000Z");
const SINCE = at("2031-05-01T00:00:00.000Z");

function logOf(visitorId: number, [session, ip, agent, time]: Visit, legacy: boolean) {
  const log: NewVisitorLog = {
    visitorId,
    sessionKey: session,
    httpMethod: "GET",
    requestUri: "/reference",
    queryString: "",
    httpUserAgent: agent,
    httpReferer: null,
    remoteAddr: ip,
    statusCode: 200,
    timestamp: at(time),
  };
  // As the visit log writer does; logs from before the migration have no signals.
  return legacy ? log : { ...log, ...visitSignals(ip, agent) };
}

for (const database of STORES) {
  /** Migrations and rows written by an older release exist only in SQL databases. */
  const notSql = !database.url || !database.sql;
  describe.skipIf(!database.url)(`sharing analytics on ${database.name}`, () => {
    const storage = useStorage(database);
    const pass = {} as Record<Key, Visitor>;

    beforeAll(async () => {
      const { passes, store, clock } = storage;
      clock.set(NOW);
      for (const [key, seeded] of Object.entries(SEED)) {
        pass[key as Key] = await passes.create({ email: seeded.email, scope: seeded.scope });
      }
      for (const [key, seeded] of Object.entries(SEED) as [Key, Seeded][]) {
        for (const visit of seeded.visits) {
          await store.insertLogs([logOf(pass[key].id, visit, seeded.legacy ?? false)]);
        }
      }
    });

    const expected = (key: Exclude<Key, "never">): SharingSignals => ({
      uuid: pass[key].uuid,
      visitorId: pass[key].id,
      ...EXPECTED[key],
    });
    const keysOf = (report: SharingSignals[]) =>
      report.map(
        (row) => Object.keys(pass).find((key) => pass[key as Key].id === row.visitorId) as Key,
      );

    it("flags exactly the shared links, counts exactly, and orders as documented", async () => {
      const report = await storage.passes.sharingReport();
      expect(keysOf(report)).toEqual(FULL_ORDER);
      expect(report).toEqual(FULL_ORDER.map((key) => expected(key as Exclude<Key, "never">)));
      for (const row of report) {
        expect(typeof row.visits).toBe("number");
        expect(row.firstVisit).toBeInstanceOf(Date);
      }
    });

    it("sharing(uuid) shows each pass as the report does; zeros for a pass without visits", async () => {
      const { passes } = storage;
      for (const key of FULL_ORDER) {
        expect(await passes.sharing(pass[key].uuid)).toEqual(
          expected(key as Exclude<Key, "never">),
        );
      }
      expect(await passes.sharing(pass.never.uuid)).toEqual({
        uuid: pass.never.uuid,
        visitorId: pass.never.id,
        email: "never@example.org",
        scope: "REPORT",
        visits: 0,
        sessions: 0,
        networks: 0,
        browsers: 0,
        withoutSession: 0,
        byCrawlers: 0,
        firstVisit: null,
        lastVisit: null,
        flagged: false,
        reasons: [],
      });
      expect(await passes.sharing("0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b")).toBeNull();
    });

    it("flaggedOnly, scope, limit and offset", async () => {
      const { passes } = storage;
      expect(keysOf(await passes.sharingReport({ flaggedOnly: true }))).toEqual([
        "sharedA",
        "sharedB",
        "legacy",
        "sharedC",
      ]);
      expect(keysOf(await passes.sharingReport({ scope: "OTHER" }))).toEqual(["sharedC"]);
      expect(keysOf(await passes.sharingReport({ scope: "REPORT" }))).toEqual(
        FULL_ORDER.filter((key) => key !== "sharedC"),
      );
      expect(await passes.sharingReport({ scope: "OTHER " })).toEqual([]);
      expect(await passes.sharingReport({ scope: "NOBODY" })).toEqual([]);
      expect(keysOf(await passes.sharingReport({ limit: 3, offset: 2 }))).toEqual([
        "legacy",
        "sharedC",
        "phoneAndLaptop",
      ]);
      expect(
        keysOf(await passes.sharingReport({ scope: "REPORT", flaggedOnly: true, limit: 2 })),
      ).toEqual(["sharedA", "sharedB"]);
      expect(
        keysOf(await passes.sharingReport({ flaggedOnly: true, limit: 10, offset: 3 })),
      ).toEqual(["sharedC"]);
      expect(await passes.sharingReport({ offset: 8 })).toEqual([]);

      const pages: SharingSignals[] = [];
      for (let offset = 0; offset < 10; offset += 3) {
        pages.push(...(await passes.sharingReport({ limit: 3, offset })));
      }
      expect(pages).toEqual(await passes.sharingReport());
    });

    it("since: counts only later visits, and leaves out passes without any", async () => {
      const { passes } = storage;
      const report = await passes.sharingReport({ since: SINCE });
      expect(keysOf(report)).toEqual([
        "sharedA",
        "legacy",
        "sharedC",
        "sharedB", // two sessions since May 1: no longer flagged, last visit May 7…
        "phoneAndLaptop", // …May 6
        "oneDevice",
        "scanned",
      ]);
      expect(report.find((row) => row.visitorId === pass.sharedB.id)).toEqual({
        ...expected("sharedB"),
        visits: 2,
        sessions: 2,
        networks: 1,
        browsers: 1,
        firstVisit: at("2031-05-03T08:00:00.000Z"),
        flagged: false,
        reasons: [],
      });
      expect(report.find((row) => row.visitorId === pass.sharedA.id)).toEqual(expected("sharedA"));
      // `since` is inclusive.
      const exact = await passes.sharingReport({ since: at("2031-05-08T10:03:00.000Z") });
      expect(keysOf(exact)).toEqual(["oneDevice"]);
      expect(exact[0]?.visits).toBe(1);
      expect(
        keysOf(await passes.sharingReport({ since: SINCE, flaggedOnly: true, scope: "REPORT" })),
      ).toEqual(["sharedA", "legacy"]);
      expect(await passes.sharingReport({ since: at("2031-06-01T00:00:00.000Z") })).toEqual([]);
    });

    it("visitCounts: visits per pass in one call, 0 for passes without", async () => {
      const { passes } = storage;
      const ids = Object.values(pass).map((visitor) => visitor.id);
      const counts = await passes.visitCounts([...ids, 987_654_321]);
      for (const [key, seeded] of Object.entries(SEED)) {
        const { id, uuid } = pass[key as Key];
        expect(counts.get(id)).toBe(seeded.visits.length);
        expect(counts.get(id)).toBe((await passes.logs(uuid)).length);
      }
      expect(counts.get(987_654_321)).toBe(0);
      expect(counts.size).toBe(ids.length + 1);
      expect(await passes.visitCounts([])).toEqual(new Map());
      expect(await passes.visitCounts([pass.sharedA.id, pass.sharedA.id])).toEqual(
        new Map([[pass.sharedA.id, 7]]),
      );
    });

    it("visitsOverTime: every day of the window, oldest first, bucketed by UTC day", async () => {
      const { passes } = storage;
      const perDay = new Map<string, number>();
      for (const seeded of Object.values(SEED)) {
        for (const [, , , time] of seeded.visits) {
          perDay.set(time.slice(0, 10), (perDay.get(time.slice(0, 10)) ?? 0) + 1);
        }
      }
      const days = await passes.visitsOverTime({ days: 12 });
      expect(days).toHaveLength(12);
      expect(days[0]?.day).toEqual(at("2031-04-29T00:00:00.000Z"));
      expect(days[11]?.day).toEqual(at("2031-05-10T00:00:00.000Z"));
      expect(days).toEqual(
        days.map(({ day }) => ({ day, visits: perDay.get(day.toISOString().slice(0, 10)) ?? 0 })),
      );
      expect(days.find((d) => d.day.getTime() === Date.parse("2031-05-04"))?.visits).toBe(6);
      expect(days.find((d) => d.day.getTime() === Date.parse("2031-05-09"))?.visits).toBe(0);

      const month = await passes.visitsOverTime();
      expect(month).toHaveLength(30);
      expect(month.reduce((sum, d) => sum + d.visits, 0)).toBe(
        [...perDay].filter(([day]) => day >= "2031-04-11").reduce((sum, [, n]) => sum + n, 0),
      );

      const one = await passes.visitsOverTime({ uuid: pass.sharedB.uuid, days: 21 });
      expect(one.filter((d) => d.visits > 0)).toEqual([
        { day: at("2031-04-20T00:00:00.000Z"), visits: 1 },
        { day: at("2031-04-21T00:00:00.000Z"), visits: 1 },
        { day: at("2031-05-03T00:00:00.000Z"), visits: 1 },
        { day: at("2031-05-07T00:00:00.000Z"), visits: 1 },
      ]);
      const none = await passes.visitsOverTime({ uuid: pass.never.uuid, days: 3 });
      expect(none).toEqual([
        { day: at("2031-05-08T00:00:00.000Z"), visits: 0 },
        { day: at("2031-05-09T00:00:00.000Z"), visits: 0 },
        { day: at("2031-05-10T00:00:00.000Z"), visits: 0 },
      ]);
    });

    // Last in this block: it adds a pass and logs (long before the windows above).
    it("counts the visits that came without a session, and those by crawlers", async () => {
      const { passes, store } = storage;
      const cookieless = await passes.create({
        email: "no-cookies@example.org",
        scope: "NOCOOKIE",
      });
      for (const [session, agent] of [
        [null, FIREFOX],
        [null, FIREFOX],
        [null, GOOGLEBOT],
        ["s-n1", FIREFOX],
      ] as const) {
        await store.insertLogs([
          logOf(cookieless.id, [session, "192.0.2.50", agent, "2030-01-01T10:00:00.000Z"], false),
        ]);
      }
      const signals = await passes.sharing(cookieless.uuid);
      expect(signals).toMatchObject({ visits: 4, sessions: 1, withoutSession: 3, byCrawlers: 1 });
      const [row] = await passes.sharingReport({ scope: "NOCOOKIE" });
      expect(row).toEqual(signals);
    });

    it("a scope filter holding NUL matches nothing instead of failing", async () => {
      expect(await storage.passes.sharingReport({ scope: "REPORT\u0000" })).toEqual([]);
      expect(await storage.passes.sharingReport({ scope: "\u0000" })).toEqual([]);
    });
  });

  describe.skipIf(!database.url)(`visitsOverTime at day edges on ${database.name}`, () => {
    const storage = useStorage(database);

    it("puts the last millisecond of a UTC day on that day, and leaves out later visits", async () => {
      const { passes, store, clock } = storage;
      clock.set(NOW);
      const visitor = await passes.create({ email: "edges@example.org", scope: "EDGES" });
      const other = await passes.create({ email: "other@example.org", scope: "EDGES" });
      const visit = (id: number, time: string) =>
        store.insertLogs([logOf(id, ["s", "203.0.113.1", CHROME, time], false)]);
      await visit(visitor.id, "2031-05-07T23:59:59.999Z"); // outside a 3-day window
      await visit(visitor.id, "2031-05-08T00:00:00.000Z");
      await visit(visitor.id, "2031-05-08T23:59:59.999Z");
      await visit(visitor.id, "2031-05-09T00:00:00.000Z");
      await visit(visitor.id, "2031-05-10T11:59:59.999Z");
      await visit(visitor.id, "2031-05-10T23:59:59.999Z"); // later today: still today
      await visit(visitor.id, "2031-05-11T00:00:00.000Z"); // tomorrow: not in the window
      await visit(other.id, "2031-05-09T12:00:00.000Z");

      expect(await passes.visitsOverTime({ uuid: visitor.uuid, days: 3 })).toEqual([
        { day: at("2031-05-08T00:00:00.000Z"), visits: 2 },
        { day: at("2031-05-09T00:00:00.000Z"), visits: 1 },
        { day: at("2031-05-10T00:00:00.000Z"), visits: 2 },
      ]);
      expect(await passes.visitsOverTime({ days: 3 })).toEqual([
        { day: at("2031-05-08T00:00:00.000Z"), visits: 2 },
        { day: at("2031-05-09T00:00:00.000Z"), visits: 2 },
        { day: at("2031-05-10T00:00:00.000Z"), visits: 2 },
      ]);
      expect(await passes.visitsOverTime({ days: 1 })).toEqual([
        { day: at("2031-05-10T00:00:00.000Z"), visits: 2 },
      ]);
    });
  });

  describe.skipIf(notSql)(`upgrading logs to signals on ${database.name}`, () => {
    it("keeps the logs written before 0002_visit_log_signals: their sessions count, nothing else", async () => {
      const target = onDisk(database);
      const prefix = randomPrefix();
      const t = tableNames(prefix);
      const store = new KyselyStore(
        target.name === "sqlite"
          ? { kind: "sqlite", filename: target.url!.slice("sqlite:".length) }
          : { kind: target.name as "postgres" | "mysql", url: target.url! },
        prefix,
      );
      const passes = createVisitorPass({
        database: target.url!,
        tablePrefix: prefix,
        env: {},
        now: () => NOW,
      });
      try {
        // The tables as the first release left them.
        const first = migrations(store.dialect, t)["0001_create_visitors"]!;
        const old = new Migrator({
          db: store.db,
          provider: { getMigrations: async () => ({ "0001_create_visitors": first }) },
          migrationTableName: t.migrations,
          migrationLockTableName: t.migrationLock,
        });
        expect((await old.migrateToLatest()).error).toBeUndefined();
        const now = NOW.getTime();
        await sql`insert into ${sql.table(t.visitors)} (uuid, first_name, last_name, email, scope,
            created_at, last_updated_at, expires_at, is_active, uses)
          values ('6f1c0a52-3b1e-4c2a-9d55-8a1b2c3d4e5f', '', '', 'before@example.org', 'UPGRADE',
            ${now}, ${now}, null, ${store.dialect.name === "sqlite" ? 1 : sql`true`}, 0)`.execute(
          store.db,
        );
        const { id } = await store.db.selectFrom(t.visitors).select("id").executeTakeFirstOrThrow();
        for (const [i, [session, ip, agent]] of [
          ["s-1", "203.0.113.1", CHROME],
          ["s-2", "198.51.100.1", SAFARI_IOS],
          ["s-3", "192.0.2.1", FIREFOX],
        ].entries()) {
          await sql`insert into ${sql.table(t.logs)} (visitor_id, session_key, http_method,
              request_uri, query_string, http_user_agent, remote_addr, status_code, timestamp)
            values (${id}, ${session}, 'GET', '/', '', ${agent}, ${ip}, 200, ${now - 3_600_000 + i})`.execute(
            store.db,
          );
        }

        await passes.migrate();
        const uuid = "6f1c0a52-3b1e-4c2a-9d55-8a1b2c3d4e5f";
        expect(await passes.sharing(uuid)).toMatchObject({
          visits: 3,
          sessions: 3,
          networks: 0,
          browsers: 0,
          flagged: true,
          reasons: ["3 sessions (more than 2)"],
        });
        expect((await passes.logs(uuid)).map((log) => log.remoteAddr)).toEqual([
          "192.0.2.1",
          "198.51.100.1",
          "203.0.113.1",
        ]);

        // Visits logged after the upgrade carry their signals.
        for (const visit of [
          ["s-4", "203.0.113.9", CHROME, "2031-05-10T11:00:00.000Z"],
          ["s-4", "2001:db8:4::1", CHROME, "2031-05-10T11:01:00.000Z"],
        ] as Visit[]) {
          await store.insertLogs([logOf(Number(id), visit, false)]);
        }
        expect(await passes.sharing(uuid)).toMatchObject({
          visits: 5,
          sessions: 4,
          networks: 2,
          browsers: 1,
          reasons: ["4 sessions (more than 2)"],
        });
      } finally {
        await passes.close();
        await dropTables(store.db, prefix);
        await store.close();
      }
    });
  });

  describe.skipIf(!database.url)(`count() and the valid filter on ${database.name}`, () => {
    const storage = useStorage(database);

    it("valid = active and unexpired now; count() matches list()", async () => {
      const { passes, clock } = storage;
      clock.set(NOW);
      const now = NOW;
      const hour = 3_600_000;
      const create = (email: string, expiresAt: Date | null) =>
        passes.create({ email, scope: "VALID", expiresAt });
      await create("later@example.org", new Date(now.getTime() + hour));
      await create("never@example.org", null);
      await create("expired@example.org", new Date(now.getTime() - 1));
      await create("exactly-now@example.org", now);
      const off = await create("off@example.org", new Date(now.getTime() + hour));
      await passes.deactivate(off.uuid);
      const offExpired = await create("off-expired@example.org", new Date(now.getTime() - hour));
      await passes.deactivate(offExpired.uuid);
      await passes.create({ email: "elsewhere@example.org", scope: "ELSEWHERE" });

      const emails = async (filter: Parameters<typeof passes.list>[0]) =>
        (await passes.list(filter)).map((visitor) => visitor.email).sort();
      expect(await emails({ scope: "VALID", valid: true })).toEqual([
        "later@example.org",
        "never@example.org",
      ]);
      expect(await emails({ scope: "VALID", valid: false })).toEqual([
        "exactly-now@example.org",
        "expired@example.org",
        "off-expired@example.org",
        "off@example.org",
      ]);
      expect(await emails({ scope: "VALID", valid: false, active: true })).toEqual([
        "exactly-now@example.org",
        "expired@example.org",
      ]);
      for (const visitor of await passes.list({ scope: "VALID", valid: true })) {
        expect(visitor.isValid).toBe(true);
      }
      for (const visitor of await passes.list({ scope: "VALID", valid: false })) {
        expect(visitor.isValid).toBe(false);
      }

      const filters = [
        {},
        { scope: "VALID" },
        { scope: "VALID", valid: true },
        { scope: "VALID", valid: false },
        { scope: "VALID", active: true },
        { scope: "VALID", active: false },
        { scope: "VALID", active: true, valid: false },
        { search: "OFF" },
        { search: "off", valid: false },
        { scope: "NOBODY" },
      ];
      for (const filter of filters) {
        expect(await passes.count(filter)).toBe(
          (await passes.list({ ...filter, limit: 1000 })).length,
        );
      }
      expect(await passes.count()).toBe(7);
      expect(await passes.count({ scope: "VALID", valid: true })).toBe(2);
      // Paging options are ignored: count() is for paging.
      expect(await passes.count({ scope: "VALID", limit: 1, offset: 5 } as never)).toBe(6);

      // Validity is judged at the service's `now`.
      clock.set(new Date(now.getTime() + 2 * hour));
      expect(await emails({ scope: "VALID", valid: true })).toEqual(["never@example.org"]);
      expect(await passes.count({ scope: "VALID", valid: true })).toBe(1);
    });
  });
}

const sqlite = DATABASES.find((database) => database.name === "sqlite")!;

describe("SQLite: the analytics on 200,000 logs use the indexes", () => {
  const storage = useStorage(sqlite);
  const ROWS = 200_000;
  const PASSES = 2_000;

  beforeAll(async () => {
    const { sql: store, prefix } = storage;
    const visitors = sql.table(`${prefix}visitors`);
    const logs = sql.table(`${prefix}visitor_logs`);
    // One statement each, inside SQLite: well under a second.
    await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${PASSES})
      insert into ${visitors} (uuid, first_name, last_name, email, scope, created_at,
        last_updated_at, is_active, uses)
      select printf('00000000-0000-4000-8000-%012d', i), '', '', 'bulk' || i || '@example.org',
        'BULK', 0, 0, 1, 0 from n`.execute(store.db);
    await sql`with recursive n(i) as (select 0 union all select i + 1 from n where i < ${ROWS - 1})
      insert into ${logs} (visitor_id, session_key, http_method, request_uri, query_string,
        status_code, timestamp, client_network, browser_family)
      select (select min(id) from ${visitors}) + i % ${PASSES}, 's' || (k % 7), 'GET', '/', '', 200,
        1956528000000 + i * 1000, '203.0.' || (k % 5) || '.0',
        case k % 3 when 0 then 'Chrome' when 1 then 'Safari' else 'bot' end
      from (select i, i / ${PASSES} as k from n)`.execute(store.db);
    await sql`analyze`.execute(store.db);
  });

  async function plan(query: { compile(): CompiledQuery }): Promise<string[]> {
    const compiled = query.compile();
    const { rows } = await storage.sql.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
    );
    return rows.map((row) => row.detail);
  }

  it("sharing(uuid) searches the (visitor_id, …) index and never scans the logs", async () => {
    const { sql: store, prefix, passes } = storage;
    const logs = `${prefix}visitor_logs`;
    const steps = await plan(store.analytics.sharingCountsQuery(1));
    const onLogs = steps.filter((step) => step.includes(logs));
    expect(onLogs.length).toBeGreaterThan(0);
    for (const step of onLogs) {
      expect(step).toMatch(
        new RegExp(
          `^SEARCH ${logs} USING (COVERING )?INDEX ${logs}_visitor_\\w+_ix \\(visitor_id=\\?`,
        ),
      );
    }
    expect(steps.some((step) => step.startsWith(`SCAN ${logs}`))).toBe(false);

    const bulk = await passes.sharing("00000000-0000-4000-8000-000000000001");
    expect(bulk).toMatchObject({ visits: ROWS / PASSES, sessions: 7, networks: 5, browsers: 2 });
  });

  it("the report reads the covering index, not the table, and counts every log", async () => {
    const { sql: store, prefix, passes } = storage;
    const logs = `${prefix}visitor_logs`;
    const query = store.analytics.sharingReportQuery({
      flaggedOnly: false,
      thresholds: passes.config.sharingThresholds,
      limit: 1000,
      offset: 0,
    });
    const steps = await plan(query);
    expect(steps.filter((step) => step.includes(logs))).toEqual([
      `SCAN ${logs} USING COVERING INDEX ${logs}_visitor_signals_ix`,
    ]);
    const pages = [
      ...(await passes.sharingReport({ limit: 1000 })),
      ...(await passes.sharingReport({ limit: 1000, offset: 1000 })),
    ];
    expect(pages).toHaveLength(PASSES);
    expect(pages.reduce((sum, row) => sum + row.visits, 0)).toBe(ROWS);
    expect(pages.every((row) => row.flagged && row.sessions === 7)).toBe(true);
  });
});
