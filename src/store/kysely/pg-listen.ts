import { type Kysely, sql } from "kysely";
import type { Client } from "pg";
import type { TableNames } from "./schema.js";

/**
 * PostgreSQL's change feed for the pass cache (`passCache: "listen"`): a trigger announces every
 * change of passes on a channel, and one connection per store listens to it.
 */

/** The PostgreSQL channel on which changes to passes are announced (see `installNotify`). */
export function changeChannel(t: TableNames): string {
  return `${t.visitors}_changed`;
}

function notifyNames(t: TableNames) {
  return {
    fn: `${t.visitors}_notify`,
    trigger: `${t.visitors}_notify_changes`,
    channel: changeChannel(t),
  };
}

/**
 * The `application_name` of a connection listening on `channel`: how a `migrate()` without
 * `passCache: "listen"` tells that a process still needs the trigger. PostgreSQL keeps 63 bytes
 * of it; table prefixes are ASCII.
 */
export function listenerName(channel: string): string {
  return `visitor-pass listener ${channel}`.slice(0, 63);
}

const quoteId = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * Serialises what installs or drops the trigger of one channel, across processes: several may
 * migrate, or start listening, at once. The first key keeps it apart from other advisory locks.
 */
const lockNotify = (channel: string) =>
  `select pg_advisory_xact_lock(1986095728, hashtext(${quoteLiteral(channel)}))`;

/**
 * PostgreSQL, run in one transaction: a trigger that announces every update or delete of passes,
 * by any process or tool, on the `changeChannel`, which keeps the `passCache: "listen"` caches in
 * step (one notice per statement; the listeners drop their whole cache). Idempotent; the
 * trigger is created only where it is missing, so running this again takes no lock on the table.
 */
export function installNotify(t: TableNames): string[] {
  const { fn, trigger, channel } = notifyNames(t);
  const table = quoteId(t.visitors);
  return [
    lockNotify(channel),
    `create or replace function ${quoteId(fn)}() returns trigger language plpgsql as $$
      begin
        perform pg_notify(${quoteLiteral(channel)}, '');
        return null;
      end $$`,
    `do $$ begin
      if not exists (select 1 from pg_trigger where tgname = ${quoteLiteral(trigger)}
          and tgrelid = ${quoteLiteral(table)}::regclass) then
        create trigger ${quoteId(trigger)} after update or delete or truncate on ${table}
          for each statement execute function ${quoteId(fn)}();
      end if;
    end $$`,
  ];
}

/**
 * PostgreSQL, run in one transaction: whether the trigger is there, taken under the same lock
 * as `installNotify`, so that a listener that finds it knows no migration is dropping it.
 */
export function hasNotify(t: TableNames): string[] {
  const { trigger, channel } = notifyNames(t);
  return [
    lockNotify(channel),
    `select 1 as present from pg_trigger where tgname = ${quoteLiteral(trigger)}
      and tgrelid = to_regclass(${quoteLiteral(quoteId(t.visitors))})`,
  ];
}

/**
 * PostgreSQL, one transaction: installs the trigger when `listen`, or drops it (and its function)
 * when not, unless a process is listening on its channel right now (such a process was started
 * with `passCache: "listen"` and needs it; its listener installs it again should it be missing).
 */
export async function settleNotify(db: Kysely<any>, t: TableNames, listen: boolean): Promise<void> {
  const { fn, trigger, channel } = notifyNames(t);
  await db.transaction().execute(async (trx) => {
    if (listen) {
      for (const statement of installNotify(t)) await sql.raw(statement).execute(trx);
      return;
    }
    await sql.raw(lockNotify(channel)).execute(trx);
    const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity
      where datname = current_database() and application_name = ${listenerName(channel)}
        and pid <> pg_backend_pid() limit 1`.execute(trx);
    if (rows.length > 0) return;
    await sql`drop trigger if exists ${sql.id(trigger)} on ${sql.table(t.visitors)}`.execute(trx);
    await sql`drop function if exists ${sql.id(fn)}()`.execute(trx);
  });
}

/** How long to wait before listening again after the listening connection was lost. */
const RECONNECT_DELAY = 1_000;

/**
 * One PostgreSQL connection that `LISTEN`s for the notification a trigger on the passes table
 * sends whenever a pass is updated or deleted, by any process or tool. It counts as listening
 * only once it has found the trigger there, or installed it (a `migrate()` without
 * `passCache: "listen"`, by another process or the command line, may have dropped it before
 * this connection opened; one that runs while it is open sees it and keeps the trigger).
 *
 * `changedElsewhere()` answers the pass cache: true when a notification arrived since the last
 * call, and always true while the connection is not listening (not yet, or lost): the cache
 * then serves nothing, so a lost connection can only cost queries, never a stale pass. Once
 * listening again, the first answer is true, for what may have changed meanwhile.
 */
export class PgChangeListener {
  #client: Client | null = null;
  #listening = false;
  #changed = true;
  #starting = false;
  #closed = false;
  #retry: ReturnType<typeof setTimeout> | null = null;

  readonly channel: string;

  constructor(
    readonly url: string,
    readonly tables: TableNames,
  ) {
    this.channel = changeChannel(tables);
  }

  changedElsewhere(): boolean {
    if (!this.#listening) {
      this.#start();
      return true;
    }
    const changed = this.#changed;
    this.#changed = false;
    return changed;
  }

  #start(): void {
    if (this.#starting || this.#closed || this.#retry) return;
    this.#starting = true;
    void this.#listen().finally(() => {
      this.#starting = false;
    });
  }

  async #listen(): Promise<void> {
    const { default: pg } = await import(
      /* webpackIgnore: true */ /* turbopackIgnore: true */ "pg"
    );
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: 5_000,
      // How operators, and a migrate() that would drop the trigger, tell it in pg_stat_activity.
      application_name: listenerName(this.channel),
      // A connection the network silently dropped must not pass for a listening one for long.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client.on("notification", (message) => {
      if (message.channel === this.channel) this.#changed = true;
    });
    client.on("error", () => this.#lost(client));
    client.on("end", () => this.#lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replaceAll('"', '""')}"`);
      await this.#ensureTrigger(client);
    } catch {
      this.#lost(client);
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#changed = true;
    this.#listening = true;
  }

  /** Installs the trigger if it is missing; throws (not listening then) if it cannot. */
  async #ensureTrigger(client: Client): Promise<void> {
    await client.query("begin");
    try {
      let present = false;
      for (const statement of hasNotify(this.tables)) {
        present = ((await client.query(statement)).rowCount ?? 0) > 0;
      }
      if (!present)
        for (const statement of installNotify(this.tables)) await client.query(statement);
      await client.query("commit");
    } catch (error) {
      await client.query("rollback").catch(() => {});
      throw error;
    }
  }

  #lost(client: Client): void {
    if (this.#client === client) {
      this.#client = null;
      this.#listening = false;
    }
    this.#changed = true;
    client.end().catch(() => {});
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
    }, RECONNECT_DELAY);
    this.#retry.unref?.();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listening = false;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }
}
