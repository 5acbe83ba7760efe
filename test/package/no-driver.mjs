// Run by smoke.sh in the throw-away project right after installing the packed tarball, before any
// database driver is installed: the drivers are optional peer dependencies, so each database
// kind fails on first use with one line naming the package to install, and nothing is written.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createVisitorPass, VisitorPassConfigError } from "visitor-pass";

const cases = [
  {
    database: "sqlite:no-driver.sqlite3",
    message:
      'Invalid visitor-pass option "database" ("sqlite:…"): the SQLite driver is not installed: npm install better-sqlite3@12',
  },
  {
    // Port 9 (discard) on loopback: nothing is dialled, the driver is missing before that.
    database: "postgres://someone:secret-password@127.0.0.1:9/app",
    message:
      'Invalid visitor-pass option "database" ("postgres://…"): the PostgreSQL driver is not installed: npm install pg@8',
  },
  {
    database: "mysql://someone:secret-password@127.0.0.1:9/app",
    message:
      'Invalid visitor-pass option "database" ("mysql://…"): the MySQL/MariaDB driver is not installed: npm install mysql2@3',
  },
];

for (const { database, message } of cases) {
  const passes = createVisitorPass({ database });
  try {
    await assert.rejects(passes.migrate(), (error) => {
      assert.ok(error instanceof VisitorPassConfigError, `${database}: ${error?.stack ?? error}`);
      assert.equal(error.message, message);
      assert.ok(!error.message.includes("secret-password"), "the message repeats the password");
      return true;
    });
    // The same one line on the next use, not a different error once the first one was seen.
    await assert.rejects(passes.get("2b0f4d2e-58b5-4c55-9d6c-0d3c1f1f0a37"), { message });
  } finally {
    await passes.close();
  }
  console.log(`${database.replace(/\/\/.*@/, "//…@")}: ${message}`);
}
assert.ok(!existsSync("no-driver.sqlite3"), "a SQLite file was created without the driver");
console.log("every database kind names the driver to install");
