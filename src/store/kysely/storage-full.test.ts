import { describe, expect, it } from "vitest";
import { VisitorPassStorageFull } from "../../core/errors.js";
import { isStorageFull, storageFull } from "./storage-full.js";

describe("isStorageFull", () => {
  it.each([
    ["SQLite", { code: "SQLITE_FULL", message: "database or disk is full" }],
    ["PostgreSQL disk_full", { code: "53100", message: "could not extend file" }],
    [
      "MySQL table full",
      { code: "ER_RECORD_FILE_FULL", errno: 1114, message: "The table is full" },
    ],
    [
      "MySQL errno 28",
      {
        code: "ER_ERROR_ON_WRITE",
        errno: 3,
        message: "Error writing file (Errcode: 28 - No space left on device)",
      },
    ],
    [
      "MariaDB engine error 28",
      { code: "ER_GET_ERRNO", errno: 1030, message: "Got error 28 from storage engine" },
    ],
  ])("recognises %s", (_name, error) => {
    expect(isStorageFull(error)).toBe(true);
    expect(storageFull(error)).toBeInstanceOf(VisitorPassStorageFull);
    expect(storageFull(error)?.cause).toBe(error);
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
    expect(isStorageFull(error)).toBe(false);
    expect(storageFull(error)).toBeNull();
  });
});
