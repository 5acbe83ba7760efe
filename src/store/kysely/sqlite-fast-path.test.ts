import { describe, expect, it } from "vitest";
import type { SqliteHandle, SqliteStatement } from "./connect.js";
import { CHECK_WINDOW_MS, SqliteFastPath } from "./sqlite-fast-path.js";

/** A connection whose `PRAGMA data_version` answers `version.value`, counting the checks. */
function connection() {
  const version = { value: 1, checks: 0 };
  const statement: SqliteStatement = {
    run: () => undefined,
    get: () => {
      version.checks += 1;
      return version.value;
    },
    pluck: () => statement,
  };
  const handle: SqliteHandle = {
    inTransaction: false,
    prepare: () => statement,
    transaction: (run) => Object.assign(run, { immediate: run }),
  };
  return { version, handle };
}

describe("SqliteFastPath#changedElsewhere", () => {
  it(`checks the data version at most once in ${CHECK_WINDOW_MS} ms, and then sees every commit`, () => {
    const { version, handle } = connection();
    let now = 1_000;
    const fast = new SqliteFastPath(() => handle, "logs", { clock: () => now });

    expect(fast.changedElsewhere()).toBe(true); // nothing seen yet
    expect(version.checks).toBe(1);
    version.value = 2; // another connection commits
    now += CHECK_WINDOW_MS - 0.1;
    expect(fast.changedElsewhere()).toBe(false); // answered by the check made 4.9 ms ago
    expect(version.checks).toBe(1);
    now += 0.1;
    expect(fast.changedElsewhere()).toBe(true);
    expect(version.checks).toBe(2);
    expect(fast.changedElsewhere()).toBe(false);
    now += CHECK_WINDOW_MS;
    expect(fast.changedElsewhere()).toBe(false); // checked again: nothing new
    expect(version.checks).toBe(3);
  });

  it("answers that anything may have changed while the connection is not open, without a window", () => {
    const { version, handle } = connection();
    let open = false;
    const fast = new SqliteFastPath(() => (open ? handle : null), "logs", { clock: () => 0 });
    expect(fast.changedElsewhere()).toBe(true);
    expect(fast.changedElsewhere()).toBe(true);
    open = true;
    expect(fast.changedElsewhere()).toBe(true);
    expect(fast.changedElsewhere()).toBe(false);
    expect(version.checks).toBe(1);
  });
});

describe("SqliteFastPath#seenElsewhere", () => {
  it(`resolves ${CHECK_WINDOW_MS} ms after it is called, by the clock the checks use`, async () => {
    const fast = new SqliteFastPath(() => null, "logs");
    const started = performance.now();
    await fast.seenElsewhere();
    expect(performance.now() - started).toBeGreaterThanOrEqual(CHECK_WINDOW_MS);
  });

  it("waits again when a timer fires before the clock has moved far enough", async () => {
    // The clock moves 1 ms per reading: the first timer (5 ms) is not trusted, only the clock.
    let now = 0;
    const readings: number[] = [];
    const fast = new SqliteFastPath(() => null, "logs", {
      clock: () => {
        readings.push(now);
        now += 1;
        return now - 1;
      },
    });
    await fast.seenElsewhere();
    expect(readings.at(-1)! - readings[0]!).toBeGreaterThanOrEqual(CHECK_WINDOW_MS);
  });

  it("does not wait on a database no other connection can open (:memory:)", async () => {
    let readings = 0;
    const fast = new SqliteFastPath(() => null, "logs", {
      shared: false,
      clock: () => readings++,
    });
    await fast.seenElsewhere();
    expect(readings).toBe(0);
  });
});
