import type { Client } from "pg";
import {
  changeChannel,
  hasNotify,
  installNotify,
  listenerName,
  type TableNames,
} from "./kysely-migrations.js";

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
