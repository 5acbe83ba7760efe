import Sqlite from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { keepingStatements } from "./sqlite-statement-cache.js";

function database() {
  const db = new Sqlite(":memory:");
  db.exec("create table t (n integer)");
  db.exec("insert into t values (1), (2), (3)");
  let prepared = 0;
  const counting = {
    close: () => db.close(),
    prepare: (sql: string) => {
      prepared += 1;
      return db.prepare(sql);
    },
  };
  return { db, kept: keepingStatements(counting), prepared: () => prepared };
}

describe("statements kept prepared on SQLite", () => {
  it("prepares a query's text once, and answers each run with the current rows", () => {
    const { db, kept, prepared } = database();
    const count = "select count(*) as n from t where n > ?";
    expect(kept.prepare(count).all([1])).toEqual([{ n: 2 }]);
    db.exec("insert into t values (4)");
    expect(kept.prepare(count).all([1])).toEqual([{ n: 3 }]);
    expect(kept.prepare("select 1 as one").all([])).toEqual([{ one: 1 }]);
    expect(prepared()).toBe(2);
    kept.close();
  });

  it("prepares a new statement while the kept one is still iterating", () => {
    const { kept, prepared } = database();
    const all = "select n from t order by n";
    const open = kept.prepare(all).iterate([]);
    expect(open.next().value).toEqual({ n: 1 });
    // The streamed query still holds its statement: the same text again must not reuse it.
    expect(kept.prepare(all).all([])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect([...open]).toEqual([{ n: 2 }, { n: 3 }]);
    expect(prepared()).toBe(2);
    kept.close();
  });

  it("keeps at most 256 statements, letting the least recently used go", () => {
    const { kept, prepared } = database();
    const text = (i: number) => `select ${i} as i`;
    kept.prepare(text(0));
    for (let i = 1; i <= 256; i++) {
      kept.prepare(text(i));
      // The first stays the most recently used, whatever comes after it.
      kept.prepare(text(0));
    }
    expect(prepared()).toBe(257);
    kept.prepare(text(0));
    expect(prepared()).toBe(257);
    kept.prepare(text(1)); // the least recently used: let go, prepared again
    expect(prepared()).toBe(258);
    kept.close();
  });
});
