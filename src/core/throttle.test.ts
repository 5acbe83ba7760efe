import { randomBytes } from "node:crypto";
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
  it("defaults to 10 pending passes and 20 form posts a minute per client network, in memory", () => {
    const { throttle } = createVisitorPass({ env: {} }).config;
    expect(throttle).not.toBe(false);
    if (throttle === false) return;
    expect(throttle.budgets).toEqual({
      selfService: { points: 10, duration: 60 },
      selfServiceForm: { points: 20, duration: 60 },
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
      budgets: { selfService: { points: 3, duration: 10 }, selfServiceForm: false },
      store,
    });
  });

  it.each<[string, unknown, string]>([
    ["a string", "on", "throttle"],
    ["true", true, "throttle"],
    ["an array", [], "throttle"],
    ["an unknown budget", { landing: { points: 1, duration: 1 } }, "throttle.landing"],
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

const REDIS_URL = process.env.VISITOR_PASS_TEST_REDIS_URL?.trim() || null;

describe.skipIf(!REDIS_URL)(
  "a shared throttle store (Redis, through rate-limiter-flexible)",
  () => {
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
        throttle: { selfService: { points: 2, duration: 60 }, store },
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
