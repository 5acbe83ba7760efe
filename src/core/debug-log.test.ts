import { describe, expect, it } from "vitest";
import {
  ANONYMOUS,
  FakeSession,
  MISSING_SESSION,
  visit,
  withFlow,
} from "../../test/support/flow.js";
import type { VisitorPassOptions } from "../index.js";
import { createGuard } from "./guard.js";
import type { VisitorFlow } from "./request-flow.js";
import type { VisitorPass } from "./visitor-pass.js";

/** A logger that keeps its debug lines (and fails the test on an error it was not expecting). */
function capturing() {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    logger: {
      warn() {},
      error: (message: string) => errors.push(message),
      debug: (message: string) => lines.push(message),
    },
  };
}

const guardContext = (url: string, session: FakeSession | null, params = {}) => ({
  visit: visit(url),
  session,
  unavailable: null,
  params,
});

/** A visitor's whole journey through the flow: landing, restored, refused twice, admitted, cleared. */
async function journey(flow: VisitorFlow, passes: VisitorPass) {
  const visitor = await passes.create({
    email: "ginger@example.org",
    scope: "REFERENCE",
    context: { referenceId: "42" },
    sessionExpiry: 3600,
  });
  const session = new FakeSession();
  const landed = await flow.enter(
    visit(`/references/42?vuid=${visitor.uuid}`),
    session,
    ANONYMOUS,
    MISSING_SESSION,
  );
  expect(landed).toMatchObject({ kind: "respond", status: 302 });
  const restored = await flow.enter(visit("/references/42"), session, ANONYMOUS, MISSING_SESSION);
  expect(restored).toMatchObject({ kind: "continue", visitor: { id: visitor.id } });
  const own = createGuard<unknown>({
    scope: "REFERENCE",
    match: (v, r) => v.context?.referenceId === r.params.id,
  });
  const held = restored.kind === "continue" ? restored.visitor : null;
  expect(
    await flow.guard(own, {}, held, guardContext("/references/42", session, { id: "42" })),
  ).toMatchObject({ kind: "continue" });
  expect(
    await flow.guard(own, {}, held, guardContext("/references/43", session, { id: "43" })),
  ).toMatchObject({ kind: "respond", status: 403 });
  const payments = createGuard<unknown>({ scope: "PAYMENT" });
  expect(await flow.guard(payments, {}, held, guardContext("/pay", session))).toMatchObject({
    status: 403,
  });
  const apply = createGuard<unknown>({ scope: "EARLY_ACCESS", selfService: true });
  expect(
    await flow.guard(apply, {}, null, guardContext("/apply", new FakeSession())),
  ).toMatchObject({
    status: 302,
  });
  // What the session keeps for the pass (with tokenStorage: "hash", the token's digest).
  const kept = [...session.data.values()].map(String);
  expect(kept.length).toBeGreaterThan(0);
  flow.clear(session, held);
  return { visitor, kept };
}

describe("debug lines", () => {
  it.each<[string, Partial<VisitorPassOptions>]>([
    ["tokens kept as they are", {}],
    ["tokenStorage: hash", { tokenStorage: "hash" }],
  ])(
    "tell each decision of the flow, naming the pass by id and scope, never its token (%s)",
    async (_label, options) => {
      const { lines, errors, logger } = capturing();
      await withFlow({ ...options, logger, sessionKey: "test:visitor" }, async (flow, passes) => {
        const { visitor, kept } = await journey(flow, passes);
        const pass = `pass ${visitor.id} (scope "REFERENCE")`;
        expect(lines).toEqual([
          `visitor-pass: admitted ${pass} from its link; session expiry: 3600 s from admission`,
          `visitor-pass: restored ${pass} from the session; session expiry: 3600 s from admission`,
          `visitor-pass: refused ${pass} at a guard of scope "REFERENCE" (403): the guard's match did not return true`,
          `visitor-pass: refused ${pass} at a guard of scope "PAYMENT" (403): no visitor of this scope`,
          `visitor-pass: sent a request without a pass of scope "EARLY_ACCESS" to the self-service form`,
          `visitor-pass: cleared ${pass} from the session`,
        ]);
        // Neither the token nor what the session keeps for it (its digest with tokenStorage: hash).
        for (const line of lines) {
          expect(line).not.toContain(visitor.uuid);
          for (const value of kept) expect(line).not.toContain(value);
        }
        expect(errors).toEqual([]);
      });
    },
  );

  it("are not written with a logger without debug, the default", async () => {
    const errors: string[] = [];
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m), error: (m: string) => errors.push(m) };
    await withFlow({ logger }, async (flow, passes) => {
      await journey(flow, passes);
    });
    expect([...warnings, ...errors]).toEqual([]);
    await withFlow({}, async (_flow, passes) => {
      expect(passes.config.logger.debug).toBeUndefined();
    });
  });

  it("a debug logger that throws does not fail the request", async () => {
    const logger = {
      warn() {},
      error() {},
      debug() {
        throw new Error("log sink down");
      },
    };
    await withFlow({ logger }, async (flow, passes) => {
      await journey(flow, passes);
    });
  });

  it("are asked of the logger as a method, so that logging libraries keep their `this`", async () => {
    const lines: string[] = [];
    const logger = {
      lines,
      warn() {},
      error() {},
      debug(this: { lines: string[] }, message: string) {
        this.lines.push(message);
      },
    };
    await withFlow({ logger }, async (flow, passes) => {
      await journey(flow, passes);
    });
    expect(lines.length).toBeGreaterThan(0);
  });
});
