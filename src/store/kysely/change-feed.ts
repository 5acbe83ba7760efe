import type { PassChangeFeed } from "../store.js";
import type { StoreDialect } from "./dialects.js";
import { PgChangeListener } from "./pg-listen.js";
import type { TableNames } from "./schema.js";
import type { SqliteFastPath } from "./sqlite-fast-path.js";

/** How long a pass cached by notification (`passCache: "listen"`) is served at most, in ms. */
const LISTEN_MAX_AGE = 5_000;

/** The store's `PassChangeFeed`, with what it opened for it. */
export interface ChangeFeed extends PassChangeFeed {
  /** The listening connection, when there is one: closed with the store. */
  readonly listener: PgChangeListener | null;
}

/**
 * How the store tells the pass cache that passes changed elsewhere, as `dialect` says
 * (`StoreDialect#changeFeed`): from SQLite's data version, on a database this package opened
 * (`sqlite`, see `SqliteFastPath#changedElsewhere`); from PostgreSQL notifications, when asked to
 * listen and given the URL to listen on (`listenUrl`, see `PgChangeListener`); else not at all,
 * and the core caches no pass.
 */
export function openChangeFeed(
  dialect: StoreDialect,
  t: TableNames,
  { sqlite, listenUrl }: { sqlite: SqliteFastPath | null; listenUrl: string | null },
): ChangeFeed {
  if (dialect.changeFeed === "data-version" && sqlite) {
    return { changedElsewhere: () => sqlite.changedElsewhere(), listener: null };
  }
  if (dialect.changeFeed === "listen" && listenUrl !== null) {
    const listener = new PgChangeListener(listenUrl, t);
    return {
      changedElsewhere: () => listener.changedElsewhere(),
      cacheMaxAge: LISTEN_MAX_AGE,
      listener,
    };
  }
  return { listener: null };
}
