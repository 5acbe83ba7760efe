import { afterEach, describe, expect, it } from "vitest";
import {
  createVisitorPass,
  networkOf,
  type VisitorPass,
  VisitorPassConfigError,
  type VisitorPassOptions,
  VisitorPassValidationError,
  type VisitRequest,
} from "../index.js";
import { browserFamily } from "./browser.js";
import {
  DEFAULT_SHARING_THRESHOLDS,
  fillDays,
  resolveSharingThresholds,
  sharingReasons,
  sharingSignals,
  uncountedVisits,
  utcDay,
  visitSignals,
} from "./sharing.js";
import { flowOf } from "./visitor-pass.js";

/** Real-world user agents, by the family each must fall in. */
const AGENTS: Record<string, string[]> = {
  Chrome: [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    // Chrome on iOS runs on WebKit, and says so; it is still Chrome to its user.
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  ],
  Edge: [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/124.2478.50 Mobile/15E148 Safari/605.1.15",
  ],
  Safari: [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
  ],
  Firefox: [
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15",
  ],
  Opera: [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 OPR/109.0.0.0",
  ],
  "Samsung Internet": [
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
  ],
  Vivaldi: [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Vivaldi/6.7.3329.21",
  ],
  bot: [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack-ImgProxy (+https://api.slack.com/robots)",
    // Office checking a link on Outlook's behalf (the kind of fetch Safe Links and its peers make).
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident/6.0; .NET4.0E; .NET4.0C; Microsoft Outlook 15.0.5023; ms-office; MSOffice 15)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.74 Safari/537.36 Edg/79.0.309.43 BingPreview/1.0b",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "WhatsApp/2.23.20.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
  ],
  "http-client": [
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "node",
    "axios/1.6.8",
    "okhttp/4.12.0",
    "Java/17.0.2",
    "PostmanRuntime/7.37.3",
    "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.1",
  ],
  unknown: ["", "   ", "Mozilla/5.0", "hello"],
};

describe("browserFamily", () => {
  for (const [family, agents] of Object.entries(AGENTS)) {
    it.each(agents)(`${family}: %s`, (agent) => {
      expect(browserFamily(agent)).toBe(family);
    });
  }

  it("is unknown without a user agent, and never longer than the column", () => {
    expect(browserFamily(null)).toBe("unknown");
    expect(browserFamily(undefined)).toBe("unknown");
    for (const agents of Object.values(AGENTS)) {
      for (const agent of agents) expect(browserFamily(agent).length).toBeLessThanOrEqual(32);
    }
  });

  it("gives the same answer the second time (the memo is only a memo)", () => {
    const agent = AGENTS.Edge![0]!;
    expect(browserFamily(agent)).toBe("Edge");
    expect(browserFamily(agent)).toBe("Edge");
    expect(browserFamily(`  ${agent}  `)).toBe("Edge");
  });
});

describe("client networks", () => {
  it.each([
    ["203.0.113.7", "203.0.113.0"],
    ["203.0.113.250", "203.0.113.0"],
    ["203.0.114.7", "203.0.114.0"],
    ["::ffff:203.0.113.9", "203.0.113.0"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1::"],
    ["2001:db8:1:ffff::1", "2001:db8:1::"],
    ["2001:0db8:0001:0000::1", "2001:db8:1::"],
    ["2001:db8::1", "2001:db8:0::"],
    ["2001:db8:2::1", "2001:db8:2::"],
  ])("%s is in network %s", (address, network) => {
    expect(networkOf(address)).toBe(network);
    expect(visitSignals(address, null).clientNetwork).toBe(network);
  });

  it("groups the addresses of one /24 or /48 together, and no others", () => {
    const networks = new Set(
      [
        "198.51.100.1",
        "198.51.100.254",
        "::ffff:198.51.100.77",
        "198.51.101.1",
        "2001:db8:aa:1::1",
        "2001:db8:aa:ffff:1:2:3:4",
        "2001:db8:ab::1",
      ].map(networkOf),
    );
    expect([...networks].sort()).toEqual([
      "198.51.100.0",
      "198.51.101.0",
      "2001:db8:aa::",
      "2001:db8:ab::",
    ]);
  });

  it("a truncated address is its own network; no address, no network", () => {
    expect(visitSignals("203.0.113.0", null).clientNetwork).toBe("203.0.113.0");
    expect(visitSignals("2001:db8:1::", null).clientNetwork).toBe("2001:db8:1::");
    expect(visitSignals(null, null)).toEqual({ clientNetwork: null, browserFamily: "unknown" });
  });
});

describe("thresholds", () => {
  it("default to 2 sessions, 2 networks, 2 browsers", () => {
    expect(DEFAULT_SHARING_THRESHOLDS).toEqual({ sessions: 2, networks: 2, browsers: 2 });
    expect(createVisitorPass({ env: {} }).config.sharingThresholds).toEqual({
      sessions: 2,
      networks: 2,
      browsers: 2,
    });
  });

  it("take what is given and default the rest", () => {
    const config = createVisitorPass({ env: {}, sharingThresholds: { networks: 5 } }).config;
    expect(config.sharingThresholds).toEqual({ sessions: 2, networks: 5, browsers: 2 });
    expect(resolveSharingThresholds({ sessions: 1, networks: 1, browsers: 1 })).toEqual({
      sessions: 1,
      networks: 1,
      browsers: 1,
    });
  });

  it.each<[unknown, string]>([
    [{ sessions: 0 }, "sharingThresholds.sessions"],
    [{ networks: -1 }, "sharingThresholds.networks"],
    [{ browsers: 1.5 }, "sharingThresholds.browsers"],
    [{ sessions: "3" }, "sharingThresholds.sessions"],
    [{ sessions: Number.NaN }, "sharingThresholds.sessions"],
    [{ sesions: 3 }, "sharingThresholds.sesions"],
    [3, "sharingThresholds"],
    [[2, 2, 2], "sharingThresholds"],
  ])("refuse %j, naming %s", (value, option) => {
    const options = { env: {}, sharingThresholds: value } as VisitorPassOptions;
    let error: unknown;
    try {
      createVisitorPass(options);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(VisitorPassConfigError);
    expect((error as VisitorPassConfigError).option).toBe(option);
  });
});

describe("flagging", () => {
  const thresholds = DEFAULT_SHARING_THRESHOLDS;
  const counts = (sessions: number, networks: number, browsers: number) => ({
    visits: sessions + 3,
    sessions,
    networks,
    browsers,
    withoutSession: 0,
    byCrawlers: 0,
    firstVisit: new Date("2031-01-01T00:00:00Z"),
    lastVisit: new Date("2031-01-02T00:00:00Z"),
  });
  const pass = { uuid: "u", visitorId: 7, email: "a@example.org", scope: "S" };

  it("is not flagged at the thresholds: a phone and a laptop, at home and at work", () => {
    const signals = sharingSignals(pass, counts(2, 2, 2), thresholds);
    expect(signals.flagged).toBe(false);
    expect(signals.reasons).toEqual([]);
  });

  it("is flagged when any count is more than its threshold, with one reason per count", () => {
    expect(sharingReasons(counts(3, 2, 2), thresholds)).toEqual(["3 sessions (more than 2)"]);
    expect(sharingReasons(counts(1, 3, 1), thresholds)).toEqual(["3 networks (more than 2)"]);
    expect(sharingReasons(counts(1, 1, 4), thresholds)).toEqual(["4 browsers (more than 2)"]);
    expect(sharingReasons(counts(9, 4, 3), thresholds)).toEqual([
      "9 sessions (more than 2)",
      "4 networks (more than 2)",
      "3 browsers (more than 2)",
    ]);
    const signals = sharingSignals(pass, counts(3, 1, 1), thresholds);
    expect(signals).toEqual({
      ...pass,
      ...counts(3, 1, 1),
      flagged: true,
      reasons: ["3 sessions (more than 2)"],
    });
  });

  it("follows the configured thresholds", () => {
    const strict = { sessions: 1, networks: 1, browsers: 1 };
    expect(sharingReasons(counts(2, 1, 1), strict)).toEqual(["2 sessions (more than 1)"]);
    const lenient = { sessions: 10, networks: 5, browsers: 4 };
    expect(sharingReasons(counts(10, 5, 4), lenient)).toEqual([]);
    expect(sharingReasons(counts(11, 6, 5), lenient)).toEqual([
      "11 sessions (more than 10)",
      "6 networks (more than 5)",
      "5 browsers (more than 4)",
    ]);
  });
});

describe("UTC days", () => {
  it("start at midnight UTC, whatever the time zone", () => {
    expect(new Date(utcDay(new Date("2031-03-05T23:59:59.999Z"))).toISOString()).toBe(
      "2031-03-05T00:00:00.000Z",
    );
    expect(new Date(utcDay(new Date("2031-03-06T00:00:00.000Z"))).toISOString()).toBe(
      "2031-03-06T00:00:00.000Z",
    );
  });

  it("are filled oldest first, with zeros for days without visits", () => {
    const day = (iso: string) => Date.parse(`${iso}T00:00:00.000Z`);
    const filled = fillDays(
      new Date("2031-03-05T08:00:00Z"),
      3,
      new Map([
        [day("2031-03-03"), 4],
        [day("2031-03-05"), 1],
      ]),
    );
    expect(filled).toEqual([
      { day: new Date(day("2031-03-03")), visits: 4 },
      { day: new Date(day("2031-03-04")), visits: 0 },
      { day: new Date(day("2031-03-05")), visits: 1 },
    ]);
  });
});

describe("through the service (SQLite in memory)", () => {
  let passes: VisitorPass | null = null;
  let now = new Date("2031-05-06T12:00:00.000Z");
  afterEach(async () => {
    await passes?.close();
    passes = null;
    now = new Date("2031-05-06T12:00:00.000Z");
  });

  async function open(options: VisitorPassOptions = {}): Promise<VisitorPass> {
    passes = createVisitorPass({
      env: {},
      database: "sqlite::memory:",
      now: () => now,
      ...options,
    });
    await passes.migrate();
    return passes;
  }

  const request = (ip: string | null, userAgent: string | null): VisitRequest => ({
    method: "GET",
    url: "/reference",
    userAgent,
    referer: null,
    ip,
  });

  it("writes each visit's network and browser family, and counts them", async () => {
    const service = await open();
    const pass = await service.create({ email: "guest@example.org", scope: "S" });
    const flow = flowOf(service, "test()");
    const visits: [string, string, string][] = [
      ["s1", "203.0.113.7", AGENTS.Chrome![0]!],
      ["s1", "203.0.113.8", AGENTS.Chrome![0]!],
      ["s2", "2001:db8:1:2::9", AGENTS.Safari![1]!],
      ["s3", "::ffff:203.0.113.99", AGENTS.Firefox![0]!],
      ["s4", "198.51.100.1", AGENTS.bot![0]!],
    ];
    for (const [id, ip, agent] of visits) {
      flow.recordVisit(pass, request(ip, agent), id, 200);
      now = new Date(now.getTime() + 60_000);
    }
    const signals = await service.sharing(pass.uuid);
    // The crawler's visit counts as a visit, but not as a session, network or browser.
    expect(signals).toEqual({
      uuid: pass.uuid,
      visitorId: pass.id,
      email: "guest@example.org",
      scope: "S",
      visits: 5,
      sessions: 3,
      networks: 2,
      browsers: 3,
      withoutSession: 0,
      byCrawlers: 1,
      firstVisit: new Date("2031-05-06T12:00:00.000Z"),
      lastVisit: new Date("2031-05-06T12:04:00.000Z"),
      flagged: true,
      reasons: ["3 sessions (more than 2)", "3 browsers (more than 2)"],
    });
    expect(await service.sharingReport()).toEqual([signals]);
  });

  it.each<[false | "truncate" | "drop", number]>([
    [false, 3],
    ["truncate", 3],
    ["drop", 0],
  ])("anonymizeIp %s: counts %i networks", async (anonymizeIp, networks) => {
    const service = await open({ anonymizeIp });
    const pass = await service.create({ email: "guest@example.org", scope: "S" });
    const flow = flowOf(service, "test()");
    for (const ip of ["203.0.113.7", "203.0.113.200", "198.51.100.1", "2001:db8:5::1", null]) {
      flow.recordVisit(pass, request(ip, AGENTS.Chrome![0]!), "s", 200);
    }
    const signals = await service.sharing(pass.uuid);
    expect(signals?.networks).toBe(networks);
    expect(signals?.visits).toBe(5);
    expect(signals?.flagged).toBe(networks > 2);
  });

  it("an unknown pass has no signals; a pass without visits has zeros", async () => {
    const service = await open();
    expect(await service.sharing("0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b")).toBeNull();
    const pass = await service.create({ email: "quiet@example.org", scope: "S" });
    expect(await service.sharing(pass.uuid)).toEqual({
      uuid: pass.uuid,
      visitorId: pass.id,
      email: "quiet@example.org",
      scope: "S",
      visits: 0,
      sessions: 0,
      networks: 0,
      browsers: 0,
      withoutSession: 0,
      byCrawlers: 0,
      firstVisit: null,
      lastVisit: null,
      flagged: false,
      reasons: [],
    });
    expect(await service.sharingReport()).toEqual([]);
    expect(await service.visitCounts([pass.id])).toEqual(new Map([[pass.id, 0]]));
  });

  it("refuses bad options with a VisitorPassValidationError", async () => {
    const service = await open();
    const refused = async (call: () => Promise<unknown>, field: string) => {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(VisitorPassValidationError);
      expect(Object.keys((error as VisitorPassValidationError).fieldErrors)).toContain(field);
    };
    await refused(() => service.sharingReport({ limit: 0 }), "limit");
    await refused(() => service.sharingReport({ limit: 1001 }), "limit");
    await refused(() => service.sharingReport({ limit: 2.5 }), "limit");
    await refused(() => service.sharingReport({ offset: -1 }), "offset");
    await refused(() => service.sharingReport({ since: new Date("nope") }), "since");
    await refused(() => service.sharingReport({ since: "2031-01-01" as unknown as Date }), "since");
    await refused(() => service.sharingReport({ scope: "" }), "scope");
    await refused(
      () => service.sharingReport({ flaggedOnly: "yes" as unknown as boolean }),
      "flaggedOnly",
    );
    await refused(
      () => service.sharingReport({ flagged: true } as unknown as { limit: number }),
      "_",
    );
    await refused(() => service.visitsOverTime({ days: 0 }), "days");
    await refused(() => service.visitsOverTime({ days: 367 }), "days");
    await refused(() => service.visitCounts([1, -2]), "visitorIds");
    await refused(() => service.visitCounts("1" as unknown as number[]), "visitorIds");
    await refused(() => service.count({ active: "yes" as unknown as boolean }), "active");
    await refused(() => service.list({ valid: 1 as unknown as boolean }), "valid");
    await expect(service.sharingReport({ limit: 1000 })).resolves.toEqual([]);
    await expect(service.visitsOverTime({ days: 366 })).resolves.toHaveLength(366);
  });
});

describe("uncountedVisits", () => {
  it("says plainly which visits the distinct counts leave out, and nothing when none", () => {
    expect(uncountedVisits({ withoutSession: 0, byCrawlers: 0 })).toEqual([]);
    expect(uncountedVisits({ withoutSession: 3, byCrawlers: 0 })).toEqual([
      "3 visits without a session (cookies refused)",
    ]);
    expect(uncountedVisits({ withoutSession: 1, byCrawlers: 2 })).toEqual([
      "1 visit without a session (cookies refused)",
      "2 visits by crawlers or link scanners, not counted",
    ]);
  });
});
