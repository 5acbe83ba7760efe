import type { VisitorStore } from "../store/store.js";
import type { ResolvedConfig } from "./config.js";
import type { VisitRequest } from "./flow.js";
import { loggedAddress } from "./network.js";
import { visitSignals } from "./sharing.js";
import { pathOf, queryWithout, stripToken } from "./tokens.js";
import type { Visitor } from "./visitor.js";

/**
 * Writes visit logs without holding up responses, and keeps track of writes in flight so that
 * reading logs, purging and closing can wait for them: an accepted visit is never lost to a
 * graceful shutdown.
 */
export class VisitLogWriter {
  readonly #pending = new Set<Promise<void>>();

  constructor(
    readonly store: VisitorStore,
    readonly config: ResolvedConfig,
  ) {}

  record(visitor: Visitor, request: VisitRequest, sessionId: string | null, status: number): void {
    const key = this.config.querystringKey;
    const remoteAddr = clip(loggedAddress(request.ip, this.config.anonymizeIp), 64);
    const userAgent = clip(request.userAgent, 1000);
    const write = this.store
      .insertLog({
        visitorId: visitor.id,
        sessionKey: clip(sessionId, 255),
        httpMethod: clip(request.method.toUpperCase(), 16)!,
        requestUri: clip(pathOf(request.url), 2000) || "/",
        queryString: clip(queryWithout(request.url, key), 2000)!,
        httpUserAgent: userAgent,
        httpReferer: clip(request.referer === null ? null : stripToken(request.referer, key), 2000),
        remoteAddr,
        statusCode: status,
        timestamp: this.config.now(),
        // The sharing signals, from what the log keeps: no network when the address is dropped,
        // the truncated network itself when it is truncated.
        ...visitSignals(remoteAddr, userAgent),
      })
      .catch((error: unknown) => {
        console.error(`visitor-pass: could not write a visit log: ${(error as Error).message}`);
      })
      .finally(() => this.#pending.delete(write));
    this.#pending.add(write);
  }

  /** Waits for every write in flight. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}

function clip<T extends string | null>(value: T, length: number): T {
  return (value !== null && value.length > length ? value.slice(0, length) : value) as T;
}
