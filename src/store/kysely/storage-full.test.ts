import { describe, expect, it } from "vitest";
import { VisitorPassStorageFull } from "../../core/errors.js";
import { MYSQL, POSTGRES, SQLITE, type StoreDialect } from "./dialects.js";
import { storageFull } from "./storage-full.js";

describe("storageFull", () => {
  it.each([
    ["SQLite", SQLITE, { code: "SQLITE_FULL", message: "database or disk is full" }],
    ["PostgreSQL disk_full", POSTGRES, { code: "53100", message: "could not extend file" }],
    [
      "MySQL table full",
      MYSQL,
      { code: "ER_RECORD_FILE_FULL", errno: 1114, message: "The table is full" },
    ],
    [
      "MySQL errno 28",
      MYSQL,
      {
        code: "ER_ERROR_ON_WRITE",
        errno: 3,
        message: "Error writing file (Errcode: 28 - No space left on device)",
      },
    ],
    [
      "MariaDB engine error 28",
      MYSQL,
      { code: "ER_GET_ERRNO", errno: 1030, message: "Got error 28 from storage engine" },
    ],
  ] as [string, StoreDialect, object][])("recognises %s", (_name, dialect, error) => {
    expect(dialect.isStorageFull(error)).toBe(true);
    expect(storageFull(dialect, error)).toBeInstanceOf(VisitorPassStorageFull);
    expect(storageFull(dialect, error)?.cause).toBe(error);
  });

  it.each([
    ["a constraint violation", { code: "SQLITE_CONSTRAINT_FOREIGNKEY" }],
    ["a lock", { code: "SQLITE_BUSY" }],
    ["a lost connection", { code: "ECONNRESET", errno: -104, message: "read ECONNRESET" }],
    [
      "a MySQL error naming another number",
      { errno: 1030, message: "Got error 280 from storage engine" },
    ],
    ["nothing", null],
  ])("leaves %s alone", (_name, error) => {
    for (const dialect of [SQLITE, POSTGRES, MYSQL]) {
      expect(dialect.isStorageFull(error)).toBe(false);
      expect(storageFull(dialect, error)).toBeNull();
    }
  });
});
