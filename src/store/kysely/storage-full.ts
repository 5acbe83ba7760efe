import { VisitorPassStorageFull } from "../../core/errors.js";
import type { StoreDialect } from "./dialects.js";

/**
 * `VisitorPassStorageFull` (its cause `error`) when `dialect`'s database refused a write for lack
 * of space (`StoreDialect#isStorageFull`: SQLite `SQLITE_FULL`, PostgreSQL `53100` (disk_full),
 * MySQL/MariaDB `ER_RECORD_FILE_FULL` (1114), or errno 28, "No space left on device", surfacing
 * through another error); else null.
 */
export function storageFull(dialect: StoreDialect, error: unknown): VisitorPassStorageFull | null {
  return dialect.isStorageFull(error) ? new VisitorPassStorageFull({ cause: error }) : null;
}
