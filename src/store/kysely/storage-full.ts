import { VisitorPassStorageFull } from "../../core/errors.js";

/**
 * The database refused a write for lack of space: SQLite `SQLITE_FULL`, PostgreSQL `53100`
 * (disk_full), MySQL/MariaDB `ER_RECORD_FILE_FULL` (1114), or its errno 28 ("No space left on
 * device") surfacing through another error.
 */
export function isStorageFull(error: unknown): boolean {
  const { code, errno, message } = (error ?? {}) as {
    code?: unknown;
    errno?: unknown;
    message?: unknown;
  };
  if (typeof code === "string" && (code.startsWith("SQLITE_FULL") || code === "53100")) {
    return true;
  }
  if (code === "ER_RECORD_FILE_FULL" || errno === 1114) return true;
  return (
    typeof errno === "number" &&
    typeof message === "string" &&
    /\b(errcode|error):? 28\b|no space left on device/i.test(message)
  );
}

/** `VisitorPassStorageFull` (its cause `error`) when the database is out of space; else null. */
export function storageFull(error: unknown): VisitorPassStorageFull | null {
  return isStorageFull(error) ? new VisitorPassStorageFull({ cause: error }) : null;
}
