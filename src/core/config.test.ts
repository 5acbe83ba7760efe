import { describe, expect, it, vi } from "vitest";
import {
  createVisitorPass,
  type VisitorPass,
  VisitorPassConfigError,
  VisitorPassError,
  type VisitorPassOptions,
  type VisitorStore,
} from "../index.js";
import { resolveConfig as resolveWith } from "./config.js";
import { VISITOR_STORE_METHODS } from "./ports.js";

/** The options resolved with a stand-in for the built-in confirmation page. */
const resolveConfig = (options: VisitorPassOptions) => resolveWith(options, () => "");

/** The config error thrown by `options`, or a failure when nothing (or something else) is thrown. */
function configError(options: VisitorPassOptions): VisitorPassConfigError {
  try {
    createVisitorPass(options);
  } catch (error) {
    expect(error).toBeInstanceOf(VisitorPassConfigError);
    return error as VisitorPassConfigError;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be refused`);
}

describe("defaults", () => {
  it("uses the documented defaults when neither option nor environment is set", () => {
    const config = createVisitorPass({ env: {} }).config;
    expect(config.database).toEqual({ kind: "sqlite", filename: "visitor-pass.sqlite3" });
    expect(config.sessionKey).toBe("visitor:session");
    expect(config.sessionExpiry).toBe(0);
    expect(config.querystringKey).toBe("vuid");
    expect(config.tokenExpiry).toBe(300);
    expect(config.selfServicePath).toBe("/visitors");
    expect(config.tablePrefix).toBe("visitor_pass_");
    expect(config.landingRedirect).toBe(true);
    expect(config.onConflict).toBe("keep");
    expect(config.anonymizeIp).toBe(false);
  });

  it("reads the real clock unless `now` is given", () => {
    const fixed = new Date("2030-06-01T12:00:00Z");
    expect(createVisitorPass({ env: {}, now: () => fixed }).config.now()).toBe(fixed);
    const before = Date.now();
    const seen = createVisitorPass({ env: {} }).config.now().getTime();
    expect(seen).toBeGreaterThanOrEqual(before);
    expect(seen).toBeLessThanOrEqual(Date.now());
  });
});

describe("option > environment variable > default", () => {
  const env = {
    VISITOR_PASS_DATABASE_URL: "sqlite:from-env.sqlite3",
    VISITOR_SESSION_KEY: "env:key",
    VISITOR_SESSION_EXPIRY: "600",
    VISITOR_QUERYSTRING_KEY: "envtoken",
    VISITOR_TOKEN_EXPIRY: "900",
  };

  it("takes each value from its environment variable when no option is given", () => {
    const config = createVisitorPass({ env }).config;
    expect(config.database).toEqual({ kind: "sqlite", filename: "from-env.sqlite3" });
    expect(config.sessionKey).toBe("env:key");
    expect(config.sessionExpiry).toBe(600);
    expect(config.querystringKey).toBe("envtoken");
    expect(config.tokenExpiry).toBe(900);
  });

  it("prefers each option to its environment variable", () => {
    const config = createVisitorPass({
      env,
      database: "sqlite::memory:",
      sessionKey: "opt:key",
      sessionExpiry: 60,
      querystringKey: "opttoken",
      tokenExpiry: 30,
    }).config;
    expect(config.database).toEqual({ kind: "sqlite", filename: ":memory:" });
    expect(config.sessionKey).toBe("opt:key");
    expect(config.sessionExpiry).toBe(60);
    expect(config.querystringKey).toBe("opttoken");
    expect(config.tokenExpiry).toBe(30);
  });

  it("an option of 0 wins over the environment (0 is a value, not a missing option)", () => {
    const config = createVisitorPass({ env, sessionExpiry: 0, tokenExpiry: 0 }).config;
    expect(config.sessionExpiry).toBe(0);
    expect(config.tokenExpiry).toBe(0);
  });

  it("sessionExpiry: null as an option wins over the environment", () => {
    expect(createVisitorPass({ env, sessionExpiry: null }).config.sessionExpiry).toBeNull();
  });

  it("ignores a bad environment value when the option is given", () => {
    const bad = {
      VISITOR_PASS_DATABASE_URL: "redis://nowhere",
      VISITOR_SESSION_KEY: "",
      VISITOR_SESSION_EXPIRY: "soon",
      VISITOR_QUERYSTRING_KEY: "a&b",
      VISITOR_TOKEN_EXPIRY: "-1",
    };
    const config = createVisitorPass({
      env: bad,
      database: "sqlite::memory:",
      sessionKey: "k",
      sessionExpiry: 5,
      querystringKey: "t",
      tokenExpiry: 10,
    }).config;
    expect(config).toMatchObject({ sessionKey: "k", sessionExpiry: 5, querystringKey: "t" });
    expect(config.tokenExpiry).toBe(10);
  });

  it('VISITOR_SESSION_EXPIRY=null (any case, spaces around) means "leave the session alone"', () => {
    for (const value of ["null", "NULL", " Null "]) {
      expect(
        createVisitorPass({ env: { VISITOR_SESSION_EXPIRY: value } }).config.sessionExpiry,
      ).toBeNull();
    }
  });

  it("VISITOR_SESSION_EXPIRY=0 gives 0 (browser-session cookie)", () => {
    expect(createVisitorPass({ env: { VISITOR_SESSION_EXPIRY: "0" } }).config.sessionExpiry).toBe(
      0,
    );
  });

  it("reads process.env when no env is injected", () => {
    const name = "VISITOR_QUERYSTRING_KEY";
    const saved = process.env[name];
    process.env[name] = "fromprocess";
    try {
      expect(createVisitorPass({ database: "sqlite::memory:" }).config.querystringKey).toBe(
        "fromprocess",
      );
    } finally {
      if (saved === undefined) delete process.env[name];
      else process.env[name] = saved;
    }
  });

  it("does not read process.env when env is injected", () => {
    const name = "VISITOR_SESSION_KEY";
    const saved = process.env[name];
    process.env[name] = "leaked:key";
    try {
      expect(createVisitorPass({ env: {} }).config.sessionKey).toBe("visitor:session");
    } finally {
      if (saved === undefined) delete process.env[name];
      else process.env[name] = saved;
    }
  });
});

describe("database URLs", () => {
  it.each([
    ["sqlite:data/app.sqlite3", { kind: "sqlite", filename: "data/app.sqlite3" }],
    ["sqlite::memory:", { kind: "sqlite", filename: ":memory:" }],
    ["sqlite:///tmp/app.sqlite3", { kind: "sqlite", filename: "/tmp/app.sqlite3" }],
    ["postgres://u:p@db.example/app", { kind: "postgres", url: "postgres://u:p@db.example/app" }],
    ["postgresql://db.example/app", { kind: "postgres", url: "postgresql://db.example/app" }],
    ["mysql://u:p@db.example/app", { kind: "mysql", url: "mysql://u:p@db.example/app" }],
  ])("accepts %s", (database, expected) => {
    expect(createVisitorPass({ env: {}, database }).config.database).toEqual(expected);
  });

  it("takes an existing Kysely instance as it is", async () => {
    const { Kysely, SqliteDialect } = await import("kysely");
    const { default: Sqlite } = await import("better-sqlite3");
    const db = new Kysely<any>({
      dialect: new SqliteDialect({ database: new Sqlite(":memory:") }),
    });
    try {
      expect(createVisitorPass({ env: {}, database: db }).config.database).toEqual({
        kind: "kysely",
        db,
      });
    } finally {
      await db.destroy();
    }
  });
});

describe("bad values throw VisitorPassConfigError naming the option and the value", () => {
  it.each<[string, VisitorPassOptions, string, string]>([
    ["unknown URL scheme", { database: "redis://cache.example/0" }, "database", "redis:"],
    ["no scheme at all", { database: "visitor.sqlite3" }, "database", "visitor.sqlite3"],
    ["empty database", { database: "" }, "database", '""'],
    ["sqlite: with no file", { database: "sqlite:" }, "database", "sqlite:"],
    ["sqlite:// with no file", { database: "sqlite://" }, "database", "sqlite://"],
    ["postgres URL with a bad port", { database: "postgres://db:port/x" }, "database", "db:port"],
    ["postgres URL with a space in the host", { database: "postgres://d b/x" }, "database", "d b"],
    ["negative tokenExpiry", { tokenExpiry: -1 }, "tokenExpiry", "-1"],
    ["NaN tokenExpiry", { tokenExpiry: Number.NaN }, "tokenExpiry", "NaN"],
    ["infinite tokenExpiry", { tokenExpiry: Number.POSITIVE_INFINITY }, "tokenExpiry", "Infinity"],
    ["non-numeric tokenExpiry", { tokenExpiry: "soon" as never }, "tokenExpiry", '"soon"'],
    ["negative sessionExpiry", { sessionExpiry: -5 }, "sessionExpiry", "-5"],
    ["non-numeric sessionExpiry", { sessionExpiry: "x" as never }, "sessionExpiry", '"x"'],
    ["empty sessionKey", { sessionKey: "" }, "sessionKey", '""'],
    ["blank sessionKey", { sessionKey: "   " }, "sessionKey", '"   "'],
    ["empty querystringKey", { querystringKey: "" }, "querystringKey", '""'],
    ["querystringKey with &", { querystringKey: "a&b" }, "querystringKey", '"a&b"'],
    ["querystringKey with a space", { querystringKey: "my key" }, "querystringKey", '"my key"'],
    ["querystringKey with =", { querystringKey: "a=b" }, "querystringKey", '"a=b"'],
    ["querystringKey with #", { querystringKey: "a#" }, "querystringKey", '"a#"'],
    ["selfServicePath without /", { selfServicePath: "visitors" }, "selfServicePath", "visitors"],
    ["empty selfServicePath", { selfServicePath: "" }, "selfServicePath", '""'],
    ["tablePrefix with -", { tablePrefix: "my-app_" }, "tablePrefix", '"my-app_"'],
    ["tablePrefix with a digit first", { tablePrefix: "1app_" }, "tablePrefix", '"1app_"'],
    ["landingRedirect not a boolean", { landingRedirect: "no" as never }, "landingRedirect", "no"],
    ["unknown onConflict", { onConflict: "merge" as never }, "onConflict", '"merge"'],
    ["anonymizeIp: true", { anonymizeIp: true as never }, "anonymizeIp", "true"],
    ["unknown anonymizeIp", { anonymizeIp: "hash" as never }, "anonymizeIp", '"hash"'],
    ["tablePrefix with SQL in it", { tablePrefix: "x; drop table y;" }, "tablePrefix", "drop"],
  ])("%s", (_label, options, option, value) => {
    const error = configError({ env: {}, ...options });
    expect(error.option).toBe(option);
    expect(error.message).toContain(`"${option}"`);
    expect(error.message).toContain(value);
    expect(error.code).toBe("VISITOR_PASS_CONFIG");
    expect(error).toBeInstanceOf(VisitorPassError);
    expect(error).toBeInstanceOf(Error);
  });

  it.each<[string, Record<string, string>, string, string]>([
    ["VISITOR_PASS_DATABASE_URL", { VISITOR_PASS_DATABASE_URL: "ftp://x" }, "database", "ftp:"],
    ["VISITOR_SESSION_KEY", { VISITOR_SESSION_KEY: " " }, "sessionKey", '" "'],
    ["VISITOR_SESSION_EXPIRY", { VISITOR_SESSION_EXPIRY: "later" }, "sessionExpiry", '"later"'],
    ["VISITOR_SESSION_EXPIRY negative", { VISITOR_SESSION_EXPIRY: "-1" }, "sessionExpiry", "-1"],
    ["VISITOR_SESSION_EXPIRY empty", { VISITOR_SESSION_EXPIRY: "" }, "sessionExpiry", '""'],
    ["VISITOR_QUERYSTRING_KEY", { VISITOR_QUERYSTRING_KEY: "a b" }, "querystringKey", '"a b"'],
    ["VISITOR_TOKEN_EXPIRY", { VISITOR_TOKEN_EXPIRY: "5 minutes" }, "tokenExpiry", "5 minutes"],
    ["VISITOR_TOKEN_EXPIRY negative", { VISITOR_TOKEN_EXPIRY: "-300" }, "tokenExpiry", "-300"],
  ])("from the environment: %s", (_label, env, option, value) => {
    const error = configError({ env });
    expect(error.option).toBe(option);
    expect(error.message).toContain(`"${option}"`);
    expect(error.message).toContain(value);
  });

  it("refuses a database value that is neither a string nor a Kysely instance", () => {
    const error = configError({ env: {}, database: { host: "db" } as never });
    expect(error.option).toBe("database");
  });

  it("refuses a postgres/mysql string that is not a URL with a // authority", () => {
    for (const database of ["postgres:not a url", "postgresql:db.example", "mysql:nothing"]) {
      const error = configError({ env: {}, database });
      expect(error.option).toBe("database");
      expect(error.message).toContain(database);
    }
  });

  it("a tokenExpiry too large for a Date does not make passes that never expire", async () => {
    let passes: VisitorPass;
    try {
      passes = createVisitorPass({ env: {}, database: "sqlite::memory:", tokenExpiry: 1e16 });
    } catch (error) {
      expect(error).toBeInstanceOf(VisitorPassConfigError);
      return;
    }
    await passes.migrate();
    try {
      // Refusing to create is acceptable; creating a pass that never expires is not.
      const visitor = await passes.create({ email: "a@example.org", scope: "S" }).catch(() => null);
      if (visitor === null) return;
      expect(Number.isNaN(visitor.expiresAt?.getTime() ?? Number.NaN)).toBe(false);
      expect((await passes.get(visitor.uuid))?.expiresAt).not.toBeNull();
    } finally {
      await passes.close();
    }
  });
});

describe("passwords in a bad database URL never reach the error", () => {
  it.each([
    ["unknown scheme", "redis://admin:Sup3rS3cret@cache.example/0"],
    ["typo in scheme", "postgress://admin:Sup3rS3cret@db.example/app"],
    ["bad port", "postgres://admin:Sup3rS3cret@db.example:port/app"],
    ["bad host", "mysql://admin:Sup3rS3cret@db example/app"],
  ])("%s", (_label, database) => {
    const error = configError({ env: {}, database });
    expect(error.message).not.toContain("Sup3rS3cret");
    expect(String(error.value)).not.toContain("Sup3rS3cret");
    expect(error.message).toContain("admin");
    expect(error.stack ?? "").not.toContain("Sup3rS3cret");
  });

  it("the same from the environment variable", () => {
    const error = configError({ env: { VISITOR_PASS_DATABASE_URL: "ldap://root:hunter2@x" } });
    expect(error.message).not.toContain("hunter2");
  });

  it("never shows any part of a password that contains an @", () => {
    const error = configError({ env: {}, database: "postgres://admin:Sup3r@S3cret@db:port/app" });
    expect(error.message).not.toContain("S3cret");
    expect(String(error.value)).not.toContain("S3cret");
  });
});

describe("createVisitorPass does no I/O", () => {
  it("constructs on a path that cannot be opened, and fails only on the first query", async () => {
    const passes = createVisitorPass({
      env: {},
      database: "sqlite:/nonexistent-dir-visitor-pass/x.sqlite3",
    });
    await expect(passes.migrate()).rejects.toThrow(/directory does not exist|unable to open/i);
    await passes.close();
  });

  it("constructs on a postgres URL nobody listens on without touching the network", () => {
    const started = Date.now();
    const passes = createVisitorPass({ env: {}, database: "postgres://u:p@127.0.0.1:1/none" });
    expect(passes.config.database.kind).toBe("postgres");
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("resolveConfig", () => {
  it("trims a trailing slash off selfServicePath but keeps a bare /", () => {
    expect(resolveConfig({ env: {}, selfServicePath: "/visitors/" }).selfServicePath).toBe(
      "/visitors",
    );
    expect(resolveConfig({ env: {}, selfServicePath: "/" }).selfServicePath).toBe("/");
  });

  it("accepts an empty table prefix", () => {
    expect(resolveConfig({ env: {}, tablePrefix: "" }).tablePrefix).toBe("");
  });
});

describe("passCache", () => {
  it('is true by default; true, false and "listen" are accepted', () => {
    expect(resolveConfig({ env: {} }).passCache).toBe(true);
    for (const value of [true, false, "listen"] as const) {
      expect(
        resolveConfig({ env: {}, passCache: value, database: "postgres://h/db" }).passCache,
      ).toBe(value);
    }
  });

  it('"listen" needs PostgreSQL: refused on SQLite (the default database too), MySQL and a Kysely instance', async () => {
    for (const database of [undefined, "sqlite::memory:", "sqlite:passes.sqlite3"]) {
      const error = configError({
        env: {},
        passCache: "listen",
        ...(database ? { database } : {}),
      });
      expect(error.option).toBe("passCache");
      expect(error.message).toMatch(/SQLite/);
    }
    expect(
      configError({ env: {}, passCache: "listen", database: "mysql://root@localhost/db" }).option,
    ).toBe("passCache");
    const { Kysely, SqliteDialect } = await import("kysely");
    // Never connected: nothing is opened before the first query.
    const kysely = new Kysely<any>({ dialect: new SqliteDialect({ database: {} as never }) });
    expect(configError({ env: {}, passCache: "listen", database: kysely }).option).toBe(
      "passCache",
    );
    expect(
      resolveConfig({
        env: { VISITOR_PASS_DATABASE_URL: "postgres://h/db" },
        passCache: "listen",
      }).passCache,
    ).toBe("listen");
  });

  it("anything else is refused", () => {
    expect(() => resolveConfig({ env: {}, passCache: "yes" as never })).toThrow(
      VisitorPassConfigError,
    );
  });
});

describe("store faults", () => {
  it("logVisits: true by default, from the option, else from VISITOR_PASS_LOG_VISITS", () => {
    expect(resolveConfig({ env: {} }).logVisits).toBe(true);
    expect(resolveConfig({ env: {}, logVisits: false }).logVisits).toBe(false);
    for (const [value, expected] of [
      ["false", false],
      ["0", false],
      ["FALSE", false],
      ["true", true],
      ["1", true],
      ["", true],
    ] as const) {
      expect(resolveConfig({ env: { VISITOR_PASS_LOG_VISITS: value } }).logVisits).toBe(expected);
    }
    expect(
      resolveConfig({ env: { VISITOR_PASS_LOG_VISITS: "false" }, logVisits: true }).logVisits,
    ).toBe(true);
    expect(configError({ env: { VISITOR_PASS_LOG_VISITS: "off" } }).option).toBe("logVisits");
    expect(configError({ env: {}, logVisits: "no" as never }).option).toBe("logVisits");
  });

  it('onLogFailure: "serve" by default, "refuse" accepted, anything else refused', () => {
    expect(resolveConfig({ env: {} }).onLogFailure).toBe("serve");
    expect(resolveConfig({ env: {}, onLogFailure: "refuse" }).onLogFailure).toBe("refuse");
    expect(configError({ env: {}, onLogFailure: "drop" as never }).option).toBe("onLogFailure");
  });

  it("logger: console by default; an object with warn() and error() is taken, others refused", () => {
    const fallback = resolveConfig({ env: {} }).logger;
    expect(fallback.debug).toBeUndefined(); // silent for debug lines unless the app asks
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      fallback.warn("w");
      fallback.error("e");
      expect(warn).toHaveBeenCalledWith("w");
      expect(error).toHaveBeenCalledWith("e");
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
    const withDebug = { ...console };
    expect(resolveConfig({ env: {}, logger: withDebug }).logger).toBe(withDebug);
    expect(
      configError({ env: {}, logger: { warn() {}, error() {}, debug: "yes" } as never }).option,
    ).toBe("logger");
    const logger = { warn: () => {}, error: () => {} };
    expect(resolveConfig({ env: {}, logger }).logger).toBe(logger);
    expect(configError({ env: {}, logger: { warn: () => {} } as never }).option).toBe("logger");
  });
});

describe("storeTimeout", () => {
  it("is 2000 ms by default, from the option, else from VISITOR_PASS_STORE_TIMEOUT", () => {
    expect(resolveConfig({ env: {} }).storeTimeout).toBe(2000);
    expect(resolveConfig({ env: {}, storeTimeout: 500 }).storeTimeout).toBe(500);
    const env = { VISITOR_PASS_STORE_TIMEOUT: "750" };
    expect(resolveConfig({ env }).storeTimeout).toBe(750);
    expect(resolveConfig({ env, storeTimeout: 1 }).storeTimeout).toBe(1);
    expect(resolveConfig({ env: {}, storeTimeout: 600_000 }).storeTimeout).toBe(600_000);
  });

  it.each<[string, unknown]>([
    ["zero", 0],
    ["negative", -1],
    ["a fraction", 1.5],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["more than ten minutes", 600_001],
    ["text", "soon"],
    ["an empty string", ""],
  ])("refuses %s", (_label, value) => {
    const error = configError({ env: {}, storeTimeout: value as never });
    expect(error.option).toBe("storeTimeout");
    expect(error.message).toContain('"storeTimeout"');
  });

  it("refuses a bad VISITOR_PASS_STORE_TIMEOUT", () => {
    const error = configError({ env: { VISITOR_PASS_STORE_TIMEOUT: "2s" } });
    expect(error.option).toBe("storeTimeout");
    expect(error.message).toContain("2s");
  });
});

describe("selfServiceRefusedDomains", () => {
  it("refuses example.com by default; takes a list of domains, [] refusing none", () => {
    expect(resolveConfig({ env: {} }).selfServiceRefusedDomains).toEqual(["example.com"]);
    expect(
      resolveConfig({ env: {}, selfServiceRefusedDomains: ["corp.test", "mail.example.org"] })
        .selfServiceRefusedDomains,
    ).toEqual(["corp.test", "mail.example.org"]);
    expect(
      resolveConfig({ env: {}, selfServiceRefusedDomains: [] }).selfServiceRefusedDomains,
    ).toEqual([]);
  });

  it("refuses what is not a list of lower-case domain names, naming the option", () => {
    for (const bad of [
      "example.com",
      [""],
      ["@example.com"],
      ["Example.com"],
      ["a b.com"],
      [".example.com"],
      [42],
      null,
    ]) {
      const error = configError({ selfServiceRefusedDomains: bad as never });
      expect(error.message).toContain("selfServiceRefusedDomains");
    }
  });
});

describe("store", () => {
  /** An object with every method of the storage ports, none of them called here. */
  const store = Object.fromEntries(
    VISITOR_STORE_METHODS.map((method) => [method, () => Promise.reject(new Error("not called"))]),
  ) as unknown as VisitorStore;

  it("is used in place of a database: none is read from the environment", () => {
    const env = { VISITOR_PASS_DATABASE_URL: "nonsense://" };
    expect(createVisitorPass({ env, store }).config.database).toEqual({ kind: "store" });
  });

  it("refuses a store and a database together", () => {
    const error = configError({ env: {}, store, database: "sqlite::memory:" });
    expect(error.option).toBe("store");
    expect(error.message).toContain("not both");
  });

  it("refuses something that is not a store, naming the methods it lacks", () => {
    const { close: _close, ...withoutClose } = store;
    const error = configError({ env: {}, store: withoutClose as VisitorStore });
    expect(error.option).toBe("store");
    expect(error.message).toContain("missing close");
    expect(configError({ env: {}, store: "sqlite::memory:" as never }).option).toBe("store");
  });

  it('refuses passCache: "listen", which needs a postgres:// URL', () => {
    expect(configError({ env: {}, store, passCache: "listen" }).option).toBe("passCache");
  });
});

describe("baseUrl and outbox", () => {
  it("takes an http(s) origin as baseUrl, from the option or VISITOR_PASS_BASE_URL", () => {
    expect(resolveConfig({ env: {}, baseUrl: "https://app.example/" }).baseUrl).toBe(
      "https://app.example",
    );
    expect(resolveConfig({ env: { VISITOR_PASS_BASE_URL: "http://localhost:3000" } }).baseUrl).toBe(
      "http://localhost:3000",
    );
    expect(resolveConfig({ env: {} }).baseUrl).toBeNull();
  });

  it.each([
    ["ftp://app.example", /http\(s\) URL/],
    ["app.example", /http\(s\) URL/],
    ["https://app.example/base", /origin only/],
    ["https://app.example/?a=1", /origin only/],
    ["https://user:pw@app.example", /origin only/],
  ])("refuses baseUrl %s", (baseUrl, problem) => {
    const error = configError({ env: {}, baseUrl });
    expect(error.option).toBe("baseUrl");
    expect(error.message).toMatch(problem);
  });

  it.each([[{ limit: 0 }], [{ limit: 1001 }], [{ limit: 2.5 }], ["yes"], [[]]])(
    "refuses outbox %j",
    (outbox) => {
      expect(configError({ env: {}, outbox: outbox as never }).option).toBe("outbox");
    },
  );
});
