import type { Client } from "pg";

/** The `application_name` of the listening connection. */
export const LISTENER_NAME = "visitor-pass change listener";

/** How long to wait before listening again after the listening connection was lost. */
const RECONNECT_DELAY = 1_000;

/**
 * One PostgreSQL connection that `LISTEN`s for the notification a trigger on the passes table
 * sends whenever a pass is updated or deleted (migration 0005), by any process or tool.
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

  constructor(
    readonly url: string,
    readonly channel: string,
  ) {}

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
    const { default: pg } = await import("pg");
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: 5_000,
      // How operators (and the tests) tell it apart in pg_stat_activity.
      application_name: LISTENER_NAME,
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
