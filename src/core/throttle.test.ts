import { randomBytes, randomUUID } from "node:crypto";
import { RateLimiterRedis } from "rate-limiter-flexible";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";
import {
  createVisitorPass,
  memoryThrottleStore,
  rateLimiterStore,
  type ThrottleBudget,
  type VisitorPass,
  VisitorPassConfigError,
  type VisitorPassOptions,
  VisitorPassThrottled,
  VisitorPassUnavailable,
} from "../index.js";
import { DEFAULT_THROTTLE } from "./config.js";
import { createGuard, type Guard } from "./guard.js";
import type { VisitRequest } from "./ports.js";
import type { VisitorFlow } from "./request-flow.js";
import { flowOf } from "./visitor-pass.js";

function configError(options: VisitorPassOptions): VisitorPassConfigError {
  try {
    createVisitorPass({ env: {}, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(VisitorPassConfigError);
    return error as VisitorPassConfigError;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be refused`);
}

describe("the throttle option", () => {
  it("defaults to 30 failed landings, 10 pending passes and 20 form posts a minute per client network, and fresh links an hour per network, pass and address, in memory", () => {
    const { throttle } = createVisitorPass({ env: {} }).config;
    expect(throttle).not.toBe(false);
    if (throttle === false) return;
    expect(throttle.budgets).toEqual({
      landing: { points: 30, duration: 60 },
      selfService: { points: 10, duration: 60 },
      selfServiceForm: { points: 20, duration: 60 },
      freshLink: { points: 10, duration: 3600 },
      freshLinkPass: { points: 3, duration: 3600 },
      freshLinkAddress: { points: 5, duration: 3600 },
    });
    expect(DEFAULT_THROTTLE).toEqual(throttle.budgets);
  });

  it("takes false, budgets of its own, a budget turned off, and a store", () => {
    expect(createVisitorPass({ env: {}, throttle: false }).config.throttle).toBe(false);
    const store = memoryThrottleStore();
    const { throttle } = createVisitorPass({
      env: {},
      throttle: { selfService: { points: 3, duration: 10 }, selfServiceForm: false, store },
    }).config;
    expect(throttle).toEqual({
      budgets: {
        landing: { points: 30, duration: 60 },
        selfService: { points: 3, duration: 10 },
        selfServiceForm: false,
        freshLink: { points: 10, duration: 3600 },
        freshLinkPass: { points: 3, duration: 3600 },
        freshLinkAddress: { points: 5, duration: 3600 },
      },
      store,
    });
  });

  it.each<[string, unknown, string]>([
    ["a string", "on", "throttle"],
    ["true", true, "throttle"],
    ["an array", [], "throttle"],
    ["an unknown budget", { landings: { points: 1, duration: 1 } }, "throttle.landings"],
    ["landing points 0", { landing: { points: 0, duration: 60 } }, "throttle.landing"],
    ["points 0", { selfService: { points: 0, duration: 60 } }, "throttle.selfService"],
    ["fractional points", { selfService: { points: 1.5, duration: 60 } }, "throttle.selfService"],
    ["no duration", { selfServiceForm: { points: 5 } }, "throttle.selfServiceForm"],
    [
      "a duration of a week",
      { selfService: { points: 5, duration: 604_800 } },
      "throttle.selfService",
    ],
    ["a number for a budget", { selfService: 10 }, "throttle.selfService"],
    ["a store without limiter()", { store: {} }, "throttle.store"],
    ["a redis that is no client", { store: { redis: {} } }, "throttle.store"],
  ])("refuses %s with VisitorPassConfigError naming the option", (_label, value, option) => {
    const error = configError({ throttle: value as VisitorPassOptions["throttle"] });
    expect(error.option).toBe(option);
    expect(error.message).toContain(option);
  });
});

const request = (ip: string | null): VisitRequest => ({
  method: "GET",
  url: "/apply",
  userAgent: null,
  referer: null,
  ip,
});

describe("the self-service budget, per client network", () => {
  let passes: VisitorPass | null = null;
  afterEach(async () => {
    await passes?.close();
    passes = null;
  });

  async function open(options: VisitorPassOptions): Promise<VisitorPass> {
    passes = createVisitorPass({ env: {}, database: "sqlite::memory:", ...options });
    await passes.migrate();
    return passes;
  }

  const guard = createGuard({ scope: "REF", selfService: true });

  it("counts a /24 (IPv4) or a /48 (IPv6) as one client, and other networks apart", async () => {
    const flow = flowOf(
      await open({ throttle: { selfService: { points: 2, duration: 60 } } }),
      "test",
    );
    const start = (ip: string | null) => startSelfService(flow, request(ip), guard);
    await start("203.0.113.1");
    await start("::ffff:203.0.113.200");
    await expect(start("203.0.113.7")).rejects.toBeInstanceOf(VisitorPassThrottled);
    await expect(start("203.0.114.1")).resolves.toMatch(/^\/visitors\/self-service\//);

    await start("2001:db8:1:1::1");
    await start("2001:db8:1:ffff::2");
    const refused = await start("2001:db8:1:2::3").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(VisitorPassThrottled);
    expect((refused as VisitorPassThrottled).status).toBe(429);
    expect((refused as VisitorPassThrottled).retryAfter).toBeGreaterThanOrEqual(1);
    expect((refused as VisitorPassThrottled).headers).toEqual({
      "Retry-After": String((refused as VisitorPassThrottled).retryAfter),
    });
    await expect(start("2001:db8:2::1")).resolves.toMatch(/^\/visitors\/self-service\//);
  });

  it("a throttle store that fails refuses as unavailable (503), creating nothing", async () => {
    const budgets: ThrottleBudget[] = [];
    const failing = rateLimiterStore((budget) => {
      budgets.push(budget);
      return { consume: () => Promise.reject(new Error("redis down")) };
    });
    const service = await open({ throttle: { store: failing } });
    const flow = flowOf(service, "test");
    await expect(startSelfService(flow, request("192.0.2.1"), guard)).rejects.toBeInstanceOf(
      VisitorPassUnavailable,
    );
    expect(budgets).toEqual([{ name: "selfService", points: 10, duration: 60 }]);
    expect(await service.list({ scope: "REF" })).toEqual([]);
  });

  it("a store's refusal gives its wait, in whole seconds", async () => {
    const store = rateLimiterStore(() => ({
      consume: () => Promise.reject({ msBeforeNext: 2_500, remainingPoints: 0 }),
    }));
    const flow = flowOf(await open({ throttle: { store } }), "test");
    const refused = await startSelfService(flow, request("192.0.2.1"), guard).catch((e) => e);
    expect(refused).toBeInstanceOf(VisitorPassThrottled);
    expect(refused.retryAfter).toBe(3);
  });
});

/**
 * What a self-service guard does for a visitor without a pass: the form's path it redirects to,
 * or its refusal thrown.
 */
async function startSelfService(
  flow: VisitorFlow,
  visit: VisitRequest,
  guard: Guard<unknown>,
): Promise<string | null> {
  const result = await flow.guard(guard, {}, null, { visit, session: null, unavailable: null });
  if (result.kind === "respond") {
    if (result.error) throw result.error;
    return result.location;
  }
  return null;
}

describe("the landing budget: failed landings per client network", () => {
  let passes: VisitorPass | null = null;
  afterEach(async () => {
    await passes?.close();
    passes = null;
  });

  async function open(options: VisitorPassOptions = {}): Promise<VisitorPass> {
    passes = createVisitorPass({ env: {}, database: "sqlite::memory:", ...options });
    await passes.migrate();
    return passes;
  }

  /** What a landing came to: its recognition, or "throttled" for the 429 it was answered with. */
  const landing = async (passes: VisitorPass, token: string, ip: string) => {
    const result = await flowOf(passes, "test").recognise(
      { ...request(ip), url: passes.tokenise("/reference", token) },
      null,
      { authenticated: false },
    );
    if (result.kind === "continue") return { kind: result.recognition.kind };
    return { kind: result.status === 429 ? "throttled" : "respond", page: result };
  };
  const unknown = () => randomUUID();

  it("refuses every landing of a network that used its budget, a valid token's too; others go on", async () => {
    const service = await open({ throttle: { landing: { points: 3, duration: 60 } } });
    const valid = await service.create({ email: "a@example.org", scope: "REF" });
    const inactive = await service.create({ email: "b@example.org", scope: "REF" });
    await service.deactivate(inactive.uuid);
    // A landing that admits counts nothing.
    for (let i = 0; i < 5; i++) {
      expect((await landing(service, valid.uuid, "203.0.113.9")).kind).toBe("admitted");
    }
    expect((await landing(service, unknown(), "203.0.113.1")).kind).toBe("refused");
    expect((await landing(service, inactive.uuid, "203.0.113.2")).kind).toBe("refused");
    expect((await landing(service, unknown(), "203.0.113.3")).kind).toBe("refused");
    const throttled = await landing(service, valid.uuid, "203.0.113.4");
    expect(throttled.kind).toBe("throttled");
    expect(throttled.page?.status).toBe(429);
    expect(Number(throttled.page?.headers["Retry-After"])).toBeGreaterThanOrEqual(1);
    expect((await landing(service, unknown(), "203.0.113.5")).kind).toBe("throttled");
    // Nothing spent while refused; another network is not affected.
    expect((await service.get(valid.uuid))?.uses).toBe(5);
    expect((await landing(service, valid.uuid, "198.51.100.1")).kind).toBe("admitted");
  });

  it("counts nothing under throttle: false or landing: false", async () => {
    for (const throttle of [false, { landing: false }] as const) {
      const service = await open({ throttle });
      for (let i = 0; i < 40; i++) {
        expect((await landing(service, unknown(), "203.0.113.1")).kind).toBe("refused");
      }
      await service.close();
      passes = null;
    }
  });

  it("a throttle store that fails makes the landing unavailable, spending nothing", async () => {
    const failing = rateLimiterStore(() => ({
      consume: () => Promise.reject(new Error("redis down")),
    }));
    const service = await open({ throttle: { store: failing } });
    const valid = await service.create({ email: "a@example.org", scope: "REF" });
    expect((await landing(service, valid.uuid, "192.0.2.1")).kind).toBe("unavailable");
    expect((await service.get(valid.uuid))?.uses).toBe(0);
  });
});

const REDIS_URL = process.env.VISITOR_PASS_TEST_REDIS_URL?.trim() || null;

describe.skipIf(!REDIS_URL)(
  "a shared throttle store (Redis, through rate-limiter-flexible)",
  () => {
    it("throttle: { store: { redis } } counts every budget in Redis, shared by two pass services", async () => {
      const redis = createClient({ url: REDIS_URL! });
      await redis.connect();
      const keyPrefix = `vp-test-${randomBytes(4).toString("hex")}:`;
      const options: VisitorPassOptions = {
        env: {},
        database: "sqlite::memory:",
        throttle: {
          landing: { points: 2, duration: 60 },
          selfService: { points: 1, duration: 60 },
          store: { redis, keyPrefix },
        },
      };
      const one = createVisitorPass(options);
      const two = createVisitorPass(options);
      try {
        await one.migrate();
        await two.migrate();
        const land = async (passes: VisitorPass) => {
          const result = await flowOf(passes, "test").recognise(
            { ...request("198.51.100.9"), url: passes.tokenise("/reference", randomUUID()) },
            null,
            { authenticated: false },
          );
          return { kind: result.kind === "continue" ? result.recognition.kind : "throttled" };
        };
        expect((await land(one)).kind).toBe("refused");
        expect((await land(two)).kind).toBe("refused");
        expect((await land(one)).kind).toBe("throttled");
        const guard = createGuard({ scope: "REF", selfService: true });
        await startSelfService(flowOf(two, "test"), request("198.51.100.9"), guard);
        await expect(
          startSelfService(flowOf(one, "test"), request("198.51.100.9"), guard),
        ).rejects.toBeInstanceOf(VisitorPassThrottled);
        const keys: string[] = [];
        for await (const page of redis.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 100 })) {
          keys.push(...page);
        }
        expect(keys.sort()).toEqual([
          `${keyPrefix}landing:198.51.100.0`,
          `${keyPrefix}selfService:198.51.100.0`,
        ]);
      } finally {
        await one.close();
        await two.close();
        for await (const keys of redis.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 100 })) {
          if (keys.length > 0) await redis.del(keys);
        }
        await redis.quit();
      }
    });

    it("holds one budget across two processes' pass services", async () => {
      const redis = createClient({ url: REDIS_URL! });
      await redis.connect();
      const prefix = `vp-test-${randomBytes(4).toString("hex")}`;
      const store = rateLimiterStore(
        (budget) =>
          new RateLimiterRedis({
            storeClient: redis,
            useRedisPackage: true,
            keyPrefix: `${prefix}:${budget.name}`,
            points: budget.points,
            duration: budget.duration,
          }),
      );
      const options = {
        env: {},
        database: "sqlite::memory:",
        throttle: {
          selfService: { points: 2, duration: 60 },
          landing: { points: 3, duration: 60 },
          store,
        },
      };
      const one = createVisitorPass(options);
      const two = createVisitorPass(options);
      try {
        await one.migrate();
        await two.migrate();
        const guard = createGuard({ scope: "REF", selfService: true });
        await startSelfService(flowOf(one, "test"), request("198.51.100.1"), guard);
        await startSelfService(flowOf(two, "test"), request("198.51.100.2"), guard);
        await expect(
          startSelfService(flowOf(one, "test"), request("198.51.100.3"), guard),
        ).rejects.toBeInstanceOf(VisitorPassThrottled);
        // Failed landings, counted in Redis too: the budget used in one refuses in the other.
        const land = async (passes: VisitorPass) => {
          const result = await flowOf(passes, "test").recognise(
            { ...request("198.51.100.4"), url: passes.tokenise("/reference", randomUUID()) },
            null,
            { authenticated: false },
          );
          return { kind: result.kind === "continue" ? result.recognition.kind : "throttled" };
        };
        for (let i = 0; i < 3; i++) expect((await land(i % 2 ? one : two)).kind).toBe("refused");
        expect((await land(one)).kind).toBe("throttled");
        expect((await land(two)).kind).toBe("throttled");
      } finally {
        await one.close();
        await two.close();
        for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) {
          if (keys.length > 0) await redis.del(keys);
        }
        await redis.quit();
      }
    });
  },
);
