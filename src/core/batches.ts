import type { PurgeBatches } from "./ports.js";

/** Rows deleted per batch of a purge at most. */
const BATCH = 250;
/** Milliseconds a batch may take before the next one is made smaller. */
const BUDGET_MS = 40;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Deletes in batches until one comes back short, for every store: `batch(size)` deletes at most
 * `size` rows and resolves to how many it deleted. Batches are made smaller while they take longer
 * than the budget and larger (up to `batchSize`) while they are quick, and the loop rests as long
 * as a batch took before the next one. With a synchronous driver (SQLite) a batch holds the event
 * loop, and a request usually needs several turns of it (session load, pass lookup, response):
 * yielding for one turn only let a request wait for batch after batch; a rest lets requests in
 * flight finish between two batches, and leaves the database to other writers half the time.
 * Resolves to the total deleted.
 */
export async function inBatches(
  batch: (size: number) => Promise<number> | number,
  { batchSize = BATCH, budgetMs = BUDGET_MS, onBatch, pause = sleep }: PurgeBatches = {},
): Promise<number> {
  let done = 0;
  let size = batchSize;
  for (;;) {
    const started = performance.now();
    const deleted = await batch(size);
    const took = performance.now() - started;
    done += deleted;
    if (deleted > 0) onBatch?.(done);
    if (deleted < size) return done;
    if (took > budgetMs) size = Math.max(1, Math.floor(size / 2));
    else if (took < budgetMs / 4) size = Math.min(batchSize, size * 2);
    await pause(Math.max(1, Math.ceil(took)));
  }
}
