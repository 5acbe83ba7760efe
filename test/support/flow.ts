/**
 * What the request flow's unit tests share (src/core/*.test.ts): an in-memory session that
 * records what the flow did to it, requests, and a pass service on an in-memory SQLite database
 * with a clock the test moves.
 */
import { afterEach, beforeEach } from "vitest";
import type { FlowResult, RequestContext, VisitorFlow } from "../../src/core/request-flow.js";
import { flowOf } from "../../src/core/visitor-pass.js";
import {
  type CreateVisitorInput,
  createVisitorPass,
  type SessionPort,
  type Visitor,
  type VisitorPass,
  type VisitorPassOptions,
  type VisitRequest,
} from "../../src/index.js";

export const T0 = new Date("2025-03-01T10:00:00.000Z");
/** The `sessionKey` of the flows these tests set up. */
export const KEY = "test:visitor";
/** A uuid no pass has. */
export const UNKNOWN = "0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
export const ANONYMOUS: RequestContext = Object.freeze({ authenticated: false });
export const SIGNED_IN: RequestContext = Object.freeze({ authenticated: true });
/** The setup error's message `enter` is given for a request without a session. */
export const MISSING_SESSION = "test() needs a session middleware before it";

/** An in-memory session, recording what the flow did to it. */
export class FakeSession implements SessionPort {
  readonly data = new Map<string, unknown>();
  readonly lifetimes: number[] = [];
  regenerations = 0;
  constructor(public id: string | null = "session-1") {}
  get(key: string): unknown {
    return this.data.get(key);
  }
  set(key: string, value: string): void {
    this.data.set(key, value);
  }
  delete(key: string): void {
    this.data.delete(key);
  }
  setCookieLifetime(seconds: number): void {
    this.lifetimes.push(seconds);
  }
  async regenerate(): Promise<void> {
    this.regenerations += 1;
    this.id = `${this.id}-renewed`;
  }
}

/** A GET of `url` from a browser, with `changes`. */
export function visit(url: string, changes: Partial<VisitRequest> = {}): VisitRequest {
  return { method: "GET", url, userAgent: "UA/1.0", referer: null, ip: "203.0.113.9", ...changes };
}

/** `seconds` after `T0`. */
export function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

/** A pass service and its request flow, set up afresh for each test and closed after it. */
export interface FlowFixture {
  readonly passes: VisitorPass;
  readonly flow: VisitorFlow;
  /** The clock of the pass service; starts at `T0` in each test. */
  now: Date;
  /** A pass of scope REFERENCE for ada@example.org unless `input` says otherwise. */
  create(input?: Partial<CreateVisitorInput>): Promise<Visitor>;
  /** The uses the store counts for `visitor`'s pass. */
  usesOf(visitor: Visitor): Promise<number | undefined>;
  /** `enter` with `MISSING_SESSION`, as a middleware runs it. */
  enter(
    request: VisitRequest,
    session: SessionPort | null,
    context?: RequestContext,
  ): Promise<FlowResult>;
}

/**
 * Registers hooks that give each test of the file a fresh pass service (`sessionKey: KEY`,
 * `tokenExpiry: 300`, `sessionExpiry: 0`, and `options` over them) on an in-memory database.
 */
export function flowFixture(options: Partial<VisitorPassOptions> = {}): FlowFixture {
  let passes: VisitorPass | undefined;
  let flow: VisitorFlow | undefined;
  const fixture: FlowFixture = {
    now: T0,
    get passes() {
      if (!passes) throw new Error("the pass service is set up in beforeEach");
      return passes;
    },
    get flow() {
      if (!flow) throw new Error("the request flow is set up in beforeEach");
      return flow;
    },
    create: (input = {}) =>
      fixture.passes.create({ email: "ada@example.org", scope: "REFERENCE", ...input }),
    usesOf: async (visitor) => (await fixture.passes.get(visitor.uuid))?.uses,
    enter: async (request, session, context = ANONYMOUS) =>
      fixture.flow.enter(request, session, context, MISSING_SESSION),
  };
  beforeEach(async () => {
    fixture.now = T0;
    passes = await openPasses({
      now: () => fixture.now,
      sessionKey: KEY,
      tokenExpiry: 300,
      sessionExpiry: 0,
      ...options,
    });
    flow = flowOf(passes, "test()");
  });
  afterEach(async () => {
    await passes?.close();
    passes = undefined;
    flow = undefined;
  });
  return fixture;
}

/** A migrated pass service on an in-memory database; the caller closes it. */
export async function openPasses(options: Partial<VisitorPassOptions> = {}): Promise<VisitorPass> {
  const passes = createVisitorPass({ env: {}, database: "sqlite::memory:", ...options });
  await passes.migrate();
  return passes;
}

/** Runs `test` with a flow of its own (`options`), closing its pass service afterwards. */
export async function withFlow(
  options: Partial<VisitorPassOptions>,
  test: (flow: VisitorFlow, passes: VisitorPass) => Promise<void>,
): Promise<void> {
  const passes = await openPasses(options);
  try {
    await test(flowOf(passes, "test()"), passes);
  } finally {
    await passes.close();
  }
}
