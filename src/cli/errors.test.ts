import { describe, expect, it } from "vitest";
import {
  MalformedVisitorToken,
  VisitorPassConfigError,
  VisitorPassValidationError,
} from "../core/errors.js";
import {
  CliError,
  describeFailure,
  EXIT_FAILURE,
  EXIT_USAGE,
  isMissingTable,
  NOT_MIGRATED,
  scrub,
  secretsOf,
  unreachableReason,
  validationMessage,
} from "./errors.js";

function driverError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe("missing tables", () => {
  it("recognises SQLite, PostgreSQL and MySQL", () => {
    expect(
      isMissingTable(driverError("no such table: visitor_pass_visitors", { code: "SQLITE_ERROR" })),
    ).toBe(true);
    expect(
      isMissingTable(
        driverError('relation "visitor_pass_visitors" does not exist', { code: "42P01" }),
      ),
    ).toBe(true);
    expect(
      isMissingTable(
        driverError("Table 'app.visitor_pass_visitors' doesn't exist", {
          code: "ER_NO_SUCH_TABLE",
          errno: 1146,
        }),
      ),
    ).toBe(true);
    expect(isMissingTable(driverError("syntax error", { code: "42601" }))).toBe(false);
  });

  it("is reported as not migrated, exit 1", () => {
    expect(describeFailure(driverError("no such table: x", {}))).toEqual({
      message: NOT_MIGRATED,
      exitCode: EXIT_FAILURE,
    });
  });
});

describe("unreachable databases", () => {
  it("uses the message of a wrapped error when the aggregate has none", () => {
    const error = new AggregateError(
      [
        driverError("connect ECONNREFUSED ::1:5432", { code: "ECONNREFUSED" }),
        driverError("connect ECONNREFUSED 127.0.0.1:5432", { code: "ECONNREFUSED" }),
      ],
      "",
    );
    expect(unreachableReason(error)).toBe("connect ECONNREFUSED ::1:5432");
  });

  it("covers refused logins and unknown databases", () => {
    expect(
      unreachableReason(
        driverError('password authentication failed for user "app"', { code: "28P01" }),
      ),
    ).toBe('password authentication failed for user "app"');
    expect(
      unreachableReason(
        driverError("Access denied for user 'app'@'localhost'", { code: "ER_ACCESS_DENIED_ERROR" }),
      ),
    ).toContain("Access denied");
    expect(unreachableReason(new Error("Connection terminated due to connection timeout"))).toBe(
      "Connection terminated due to connection timeout",
    );
    expect(unreachableReason(new Error("something else"))).toBeNull();
  });

  it("never prints the password", () => {
    const failure = describeFailure(
      driverError("could not connect to postgres://app:hunter22@db.internal/app (hunter22)", {
        code: "ECONNREFUSED",
      }),
      secretsOf("postgres://app:hunter22@db.internal/app"),
    );
    expect(failure.exitCode).toBe(EXIT_FAILURE);
    expect(failure.message).toMatch(/^Cannot reach the database: /);
    expect(failure.message).not.toContain("hunter22");
  });
});

describe("user errors", () => {
  it("lists field messages on one line under option names, exit 2", () => {
    const failure = describeFailure(
      new VisitorPassValidationError({
        email: ["Enter a valid email address."],
        maxUses: ["Must be 1 or more."],
      }),
    );
    expect(failure).toEqual({
      message:
        "Invalid input: --email: Enter a valid email address.; --max-uses: Must be 1 or more.",
      exitCode: EXIT_USAGE,
    });
    expect(validationMessage({ _: ["Bad."] })).toBe("Invalid input: input: Bad.");
  });

  it("gives config and token errors their own message, exit 2", () => {
    expect(describeFailure(new MalformedVisitorToken())).toEqual({
      message: "Malformed visitor token.",
      exitCode: EXIT_USAGE,
    });
    const config = new VisitorPassConfigError("database", "x", "unknown scheme");
    expect(describeFailure(config)).toEqual({ message: config.message, exitCode: EXIT_USAGE });
  });

  it("keeps a CLI error's code and makes anything else one line, exit 1", () => {
    expect(describeFailure(new CliError("No visitor pass x."))).toEqual({
      message: "No visitor pass x.",
      exitCode: EXIT_FAILURE,
    });
    expect(describeFailure(new Error("two\n   lines"))).toEqual({
      message: "two lines",
      exitCode: EXIT_FAILURE,
    });
  });
});

describe("secrets", () => {
  it("finds the password of a URL, raw and decoded", () => {
    expect(secretsOf("mysql://u:p%40ss!word@h/db")).toEqual(["p%40ss!word", "p@ss!word"]);
    expect(secretsOf("sqlite:x.sqlite3")).toEqual([]);
    expect(secretsOf(undefined)).toEqual([]);
  });

  it("hides passwords of any URL in a text", () => {
    expect(scrub("at postgres://u:secret@h/db and mysql://v:other@h")).toBe(
      "at postgres://u:***@h/db and mysql://v:***@h",
    );
  });
});
