import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { VisitorPassConfigError } from "../../core/errors.js";
import { importDriver } from "./connect.js";
import { DIALECTS, SQLITE, type SqlFamily } from "./dialects.js";

// The drivers are optional peer dependencies. `notInstalled(pkg)` loads `pkg` with Node's own
// resolver from an empty folder, so it fails exactly as a missing package does; the packaging
// smoke test (test/package/smoke.sh) checks the same through a real install without the drivers.
const empty = mkdtempSync(join(tmpdir(), "visitor-pass-no-drivers-"));
afterAll(() => rmSync(empty, { recursive: true, force: true }));
const notInstalled = (pkg: string) => async () => createRequire(join(empty, "app.js"))(pkg);

const drivers: Record<SqlFamily, { pkg: string; message: string }> = {
  sqlite: {
    pkg: "better-sqlite3",
    message:
      'Invalid visitor-pass option "database" ("sqlite:…"): the SQLite driver is not installed: npm install better-sqlite3@12',
  },
  postgres: {
    pkg: "pg",
    message:
      'Invalid visitor-pass option "database" ("postgres://…"): the PostgreSQL driver is not installed: npm install pg@8',
  },
  mysql: {
    pkg: "mysql2",
    message:
      'Invalid visitor-pass option "database" ("mysql://…"): the MySQL/MariaDB driver is not installed: npm install mysql2@3',
  },
};

describe("importDriver: a database driver that is not installed", () => {
  for (const family of ["sqlite", "postgres", "mysql"] as const) {
    test(`${family}: fails with one line naming the package to install`, async () => {
      const error = await importDriver(DIALECTS[family], notInstalled(drivers[family].pkg)).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(VisitorPassConfigError);
      expect((error as VisitorPassConfigError).message).toBe(drivers[family].message);
      expect((error as VisitorPassConfigError).option).toBe("database");
      expect((error as Error).message).not.toContain("\n");
      // The original module-not-found stays reachable for debugging.
      expect((error as Error).cause).toMatchObject({ code: "MODULE_NOT_FOUND" });
    });
  }

  test("a missing package other than the driver (e.g. one the driver needs) is rethrown as it is", async () => {
    const error = await importDriver(SQLITE, notInstalled("bindings")).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(VisitorPassConfigError);
    expect(error).toMatchObject({ code: "MODULE_NOT_FOUND" });
    expect((error as Error).message).toContain("'bindings'");
  });

  test("any other failure to load the driver is rethrown as it is", async () => {
    const broken = new Error("The module was compiled against a different Node.js version");
    const error = await importDriver(SQLITE, () => Promise.reject(broken)).catch((e: unknown) => e);
    expect(error).toBe(broken);
  });

  test("an installed driver loads", async () => {
    const pg = await importDriver(DIALECTS.postgres, () => import("pg"));
    expect(typeof pg.default.Pool).toBe("function");
  });
});
