import { type RawBuilder, sql } from "kysely";
import type { SharingCounts } from "../../core/sharing.js";
import type { SharingReportQuery, SharingReportRow, VisitorAnalytics } from "../store.js";
import { matchesNothing, type SqlTables } from "./schema.js";

/** Ids per `in (…)` list: one query for any list page, well under every driver's limit. */
const IDS_PER_QUERY = 5000;

type Count = number | string | bigint;
type Millis = number | string | bigint | null;

/**
 * The analytics queries over visit logs. Each is one statement whatever the number of passes:
 * the counts are `count(distinct …)` aggregates grouped by pass, so the database does the work
 * and returns one row per pass (or per day).
 *
 * Crawlers and link scanners (browser family `"bot"`) count as visits, but not towards distinct
 * sessions, networks or browser families: a mail scanner fetching a link is not another person.
 * Logs written before the `0002_visit_log_signals` migration have no network and no family (NULL),
 * which `count(distinct …)` leaves out; their sessions still count.
 */
export class KyselyAnalytics implements VisitorAnalytics {
  readonly #db: SqlTables["db"];
  readonly #dialect: SqlTables["dialect"];
  readonly #t: SqlTables["t"];

  constructor({ db, dialect, t }: SqlTables) {
    this.#db = db;
    this.#dialect = dialect;
    this.#t = t;
  }

  /** The query behind `sharingCounts`: the aggregates of one pass's logs. */
  sharingCountsQuery(visitorId: number) {
    return this.#db
      .selectFrom(this.#t.logs)
      .select(countColumns())
      .where("visitor_id", "=", visitorId);
  }

  async sharingCounts(visitorId: number): Promise<SharingCounts> {
    const row = await this.sharingCountsQuery(visitorId).executeTakeFirst();
    return row ? toCounts(row) : toCounts({});
  }

  /**
   * The query behind `sharingReport`, in three steps: the logs aggregated per pass (`a`, in the
   * order of the `(visitor_id, …)` index); those rows flagged, filtered, ordered and cut to one
   * page (`p`); and only that page joined to its passes. Joining before the page is cut made
   * MariaDB several times slower.
   */
  sharingReportQuery(query: SharingReportQuery) {
    const { thresholds } = query;
    let perPass = this.#db
      .selectFrom(this.#t.logs)
      .select(["visitor_id", ...countColumns()])
      .groupBy("visitor_id");
    if (query.since !== undefined) {
      perPass = perPass.where("timestamp", ">=", query.since.getTime());
    }
    if (matchesNothing(query.scope)) {
      perPass = perPass.where(sql<boolean>`1 = 0`);
    } else if (query.scope !== undefined) {
      const scope = query.scope;
      let ofScope = this.#db.selectFrom(this.#t.visitors).select("id").where("scope", "=", scope);
      const exactly = this.#dialect.exactly;
      if (exactly) ofScope = ofScope.where(exactly("scope", scope));
      perPass = perPass.where("visitor_id", "in", ofScope);
    }
    const overThreshold = sql<boolean>`${sql.ref("a.sessions")} > ${thresholds.sessions} or ${sql.ref("a.networks")} > ${thresholds.networks} or ${sql.ref("a.browsers")} > ${thresholds.browsers}`;
    let page = this.#db
      .selectFrom(perPass.as("a"))
      .selectAll("a")
      .select(sql<number>`case when ${overThreshold} then 1 else 0 end`.as("flagged"));
    if (query.flaggedOnly) page = page.where(sql<boolean>`(${overThreshold})`);
    const ordered = page
      .orderBy("flagged", "desc")
      .orderBy("a.sessions", "desc")
      .orderBy("a.last_visit", "desc")
      .orderBy("a.visitor_id", "desc")
      .limit(query.limit)
      .offset(query.offset);
    return this.#db
      .selectFrom(ordered.as("p"))
      .innerJoin(`${this.#t.visitors} as v` as "visitors as v", "v.id", "p.visitor_id")
      .select([
        "p.visitor_id",
        "v.uuid",
        "v.email",
        "v.scope",
        "p.visits",
        "p.sessions",
        "p.networks",
        "p.browsers",
        "p.without_session",
        "p.by_crawlers",
        "p.first_visit",
        "p.last_visit",
      ])
      .orderBy("p.flagged", "desc")
      .orderBy("p.sessions", "desc")
      .orderBy("p.last_visit", "desc")
      .orderBy("p.visitor_id", "desc");
  }

  async sharingReport(query: SharingReportQuery): Promise<SharingReportRow[]> {
    const rows = await this.sharingReportQuery(query).execute();
    return rows.map((row) => ({
      visitorId: Number(row.visitor_id),
      uuid: row.uuid,
      email: row.email,
      scope: row.scope,
      ...toCounts(row),
    }));
  }

  async visitCounts(visitorIds: readonly number[]): Promise<Map<number, number>> {
    const counts = new Map<number, number>(visitorIds.map((id) => [id, 0]));
    for (let start = 0; start < visitorIds.length; start += IDS_PER_QUERY) {
      const rows = await this.#db
        .selectFrom(this.#t.logs)
        .select(["visitor_id", sql<Count>`count(*)`.as("visits")])
        .where("visitor_id", "in", visitorIds.slice(start, start + IDS_PER_QUERY))
        .groupBy("visitor_id")
        .execute();
      for (const row of rows) counts.set(Number(row.visitor_id), Number(row.visits));
    }
    return counts;
  }

  /**
   * Visits per UTC day. Timestamps are epoch milliseconds everywhere, so the day is plain integer
   * arithmetic that all three databases do alike: `timestamp - timestamp % 86400000`.
   */
  async visitsPerDay(range: {
    visitorId?: number;
    from: Date;
    to: Date;
  }): Promise<Map<number, number>> {
    const day = sql<Count>`${sql.ref("timestamp")} - (${sql.ref("timestamp")} % 86400000)`;
    let query = this.#db
      .selectFrom(this.#t.logs)
      .select([day.as("day"), sql<Count>`count(*)`.as("visits")])
      .where("timestamp", ">=", range.from.getTime())
      .where("timestamp", "<", range.to.getTime())
      .groupBy(day);
    if (range.visitorId !== undefined) query = query.where("visitor_id", "=", range.visitorId);
    const rows = await query.execute();
    return new Map(rows.map((row) => [Number(row.day), Number(row.visits)]));
  }
}

/** Visits that are not crawlers or link scanners (logs from before the signals included). */
const byPerson = sql<boolean>`(${sql.ref("browser_family")} is null or ${sql.ref("browser_family")} <> 'bot')`;

/** Distinct non-null values of `column` among the visits of people. */
function distinctOf(
  column: "session_key" | "client_network" | "browser_family",
): RawBuilder<Count> {
  return sql<Count>`count(distinct case when ${byPerson} then ${sql.ref(column)} end)`;
}

function countColumns() {
  return [
    sql<Count>`count(*)`.as("visits"),
    distinctOf("session_key").as("sessions"),
    distinctOf("client_network").as("networks"),
    distinctOf("browser_family").as("browsers"),
    sql<Count>`count(case when ${sql.ref("session_key")} is null then 1 end)`.as("without_session"),
    sql<Count>`count(case when ${sql.ref("browser_family")} = 'bot' then 1 end)`.as("by_crawlers"),
    sql<Millis>`min(${sql.ref("timestamp")})`.as("first_visit"),
    sql<Millis>`max(${sql.ref("timestamp")})`.as("last_visit"),
  ] as const;
}

/** Counts as numbers (PostgreSQL returns bigints as strings), times as dates. */
function toCounts(row: {
  visits?: Count;
  sessions?: Count;
  networks?: Count;
  browsers?: Count;
  without_session?: Count;
  by_crawlers?: Count;
  first_visit?: Millis;
  last_visit?: Millis;
}): SharingCounts {
  const time = (value: Millis | undefined) =>
    value === null || value === undefined ? null : new Date(Number(value));
  return {
    visits: Number(row.visits ?? 0),
    sessions: Number(row.sessions ?? 0),
    networks: Number(row.networks ?? 0),
    browsers: Number(row.browsers ?? 0),
    withoutSession: Number(row.without_session ?? 0),
    byCrawlers: Number(row.by_crawlers ?? 0),
    firstVisit: time(row.first_visit),
    lastVisit: time(row.last_visit),
  };
}
