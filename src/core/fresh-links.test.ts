import { describe, expect, it, vi } from "vitest";
import { at, FakeSession, flowFixture, visit } from "../../test/support/flow.js";
import {
  createVisitorPass,
  type LinkMessage,
  VisitorPassConfigError,
  type VisitorPassOptions,
  type VisitorStore,
} from "../index.js";
import { VISITOR_STORE_METHODS, type VisitRequest } from "./ports.js";

const BASE = "https://app.example";

/** The links sent, and a way to wait for them. */
function outbox(send: (message: LinkMessage) => Promise<void> | void = () => {}) {
  const sent: LinkMessage[] = [];
  return {
    sent,
    sendLink: vi.fn(async (message: LinkMessage) => {
      sent.push(message);
      await send(message);
    }),
  };
}

/** Waits (at most 2 s) until `sent` holds `count` links. */
async function sentCount(sent: readonly LinkMessage[], count: number): Promise<number> {
  const deadline = Date.now() + 2000;
  while (sent.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return sent.length;
}

const ask = (token: string, changes: Partial<VisitRequest> = {}): VisitRequest =>
  visit(`/reference?vuid=${token}&vuid-fresh=1`, { method: "POST", ...changes });

describe("requesting a fresh link", () => {
  const mail = outbox();
  const logger = { warn: vi.fn(), error: vi.fn() };
  const fx = flowFixture({
    sendLink: mail.sendLink,
    freshLinks: { scopes: ["REFERENCE"], baseUrl: `${BASE}/` },
    logger,
  });

  /** POSTs a request for a fresh link and waits until its work after the answer has ended. */
  async function request(token: string) {
    const result = await fx.flow.recognise(ask(token), new FakeSession(), {
      authenticated: false,
    });
    return result;
  }

  it("renews an expired pass once, however many requests race for it", async () => {
    mail.sent.length = 0;
    const pass = await fx.create({ expiresAt: at(-10) });
    const answers = await Promise.all([
      fx.flow.recognise(ask(pass.uuid), new FakeSession(), { authenticated: false }),
      fx.flow.recognise(ask(pass.uuid), new FakeSession(), { authenticated: false }),
      fx.flow.recognise(ask(pass.uuid), new FakeSession(), { authenticated: false }),
    ]);
    expect(answers.map((answer) => answer.kind === "respond" && answer.status)).toEqual([
      200, 200, 200,
    ]);
    await fx.passes.close();
    expect(mail.sent).toHaveLength(1);
    const url = new URL(mail.sent[0]!.url);
    expect(url.origin).toBe(BASE);
    const renewed = mail.sent[0]!.visitor;
    expect(renewed.uuid).toBe(url.searchParams.get("vuid"));
    expect(renewed.expiresAt).toEqual(at(300));
  });

  it("leaves a link that still admits alone", async () => {
    mail.sent.length = 0;
    const pass = await fx.create();
    await request(pass.uuid);
    await fx.passes.close(); // waits for the work begun after the answer
    expect(mail.sent).toHaveLength(0);
  });

  it("sends at most freshLinkPass links for one pass in the window", async () => {
    mail.sent.length = 0;
    let token = (await fx.create({ expiresAt: at(-10) })).uuid;
    for (let round = 0; round < 3; round++) {
      await request(token);
      expect(await sentCount(mail.sent, round + 1)).toBe(round + 1);
      token = new URL(mail.sent[round]!.url).searchParams.get("vuid")!;
      fx.now = at((round + 1) * 400); // the new link has expired again
    }
    await request(token);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(mail.sent).toHaveLength(3);
    expect((await fx.passes.get(token))?.hasExpired).toBe(true);
  });

  it("reports a failing sendLink to the logger and fires no freshLinkSent", async () => {
    mail.sent.length = 0;
    mail.sendLink.mockRejectedValueOnce(new Error("SMTP down"));
    const fired = vi.fn();
    fx.passes.on("freshLinkSent", fired);
    const pass = await fx.create({ expiresAt: at(-10) });
    await request(pass.uuid);
    await sentCount(mail.sent, 1);
    await vi.waitFor(() =>
      expect(logger.error).toHaveBeenCalledWith(
        "visitor-pass: sendLink (freshLink) failed: Error: SMTP down",
      ),
    );
    expect(fired).not.toHaveBeenCalled();
  });

  it("asks for nothing on a GET, even one carrying the marker: only a POST asks", async () => {
    mail.sent.length = 0;
    const pass = await fx.create({ expiresAt: at(-10) });
    const result = await fx.flow.recognise(
      visit(`/reference?vuid=${pass.uuid}&vuid-fresh=1`),
      new FakeSession(),
      { authenticated: false },
    );
    expect(result).toMatchObject({ kind: "respond", status: 200 });
    expect((await fx.passes.get(pass.uuid))?.uuid).toBe(pass.uuid);
    await fx.passes.close();
    expect(mail.sent).toHaveLength(0);
  });
});

describe("fresh links with tokenStorage: hash", () => {
  const mail = outbox();
  const fx = flowFixture({
    sendLink: mail.sendLink,
    freshLinks: { scopes: true, baseUrl: BASE },
    tokenStorage: "hash",
  });

  it("sends a token that admits, and stores only its digest", async () => {
    const pass = await fx.create({ maxUses: 1 });
    await fx.flow.recognise(visit(`/r?vuid=${pass.uuid}`), new FakeSession(), {
      authenticated: false,
    });
    await fx.flow.recognise(ask(pass.uuid), new FakeSession(), { authenticated: false });
    expect(await sentCount(mail.sent, 1)).toBe(1);
    const token = new URL(mail.sent[0]!.url).searchParams.get("vuid")!;
    expect(mail.sent[0]!.visitor.uuid).toBe(token);
    const [stored] = await fx.passes.list();
    expect(stored!.uuid).toMatch(/^[0-9a-f]{64}$/);
    const landing = await fx.flow.recognise(visit(`/r?vuid=${token}`), new FakeSession(), {
      authenticated: false,
    });
    expect(landing).toMatchObject({ kind: "continue", recognition: { kind: "admitted" } });
  });
});

describe("fresh links with a page of the app's", () => {
  const mail = outbox();
  const pages: { action: string; sent: boolean }[] = [];
  const fx = flowFixture({
    sendLink: mail.sendLink,
    freshLinks: {
      scopes: true,
      baseUrl: BASE,
      page: (context) => {
        pages.push(context);
        return `<p>${context.sent ? "sent" : "offer"}</p>`;
      },
    },
  });

  it("renders both the offer and the answer with it, given nothing of the pass", async () => {
    const pass = await fx.create({ expiresAt: at(-10) });
    const offer = await fx.flow.recognise(visit(`/r?vuid=${pass.uuid}`), new FakeSession(), {
      authenticated: false,
    });
    expect(offer).toMatchObject({ kind: "respond", status: 200, body: "<p>offer</p>" });
    const answer = await fx.flow.recognise(
      visit(`/r?vuid=${pass.uuid}&vuid-fresh=1`, { method: "POST" }),
      new FakeSession(),
      { authenticated: false },
    );
    expect(answer).toMatchObject({ kind: "respond", status: 200, body: "<p>sent</p>" });
    const action = `/r?vuid=${pass.uuid}&vuid-fresh=1`;
    expect(pages).toEqual([
      { action, sent: false },
      { action, sent: true },
    ]);
  });
});

describe("the freshLinks option", () => {
  const sendLink = () => {};
  const refused = (options: VisitorPassOptions): VisitorPassConfigError => {
    try {
      createVisitorPass({ env: {}, ...options });
    } catch (error) {
      expect(error).toBeInstanceOf(VisitorPassConfigError);
      return error as VisitorPassConfigError;
    }
    throw new Error("expected a config error");
  };

  it("is off by default", () => {
    expect(createVisitorPass({ env: {} }).config.freshLinks).toBeNull();
  });

  it("needs sendLink: fresh links are sent, never shown", () => {
    expect(refused({ freshLinks: { baseUrl: BASE } }).message).toContain("sendLink");
  });

  it.each([
    ["a path", "https://app.example/app"],
    ["a query", "https://app.example/?a=1"],
    ["credentials", "https://user:pw@app.example"],
    ["another scheme", "javascript:alert(1)"],
    ["no URL", "app.example"],
  ])("refuses a baseUrl with %s", (_, baseUrl) => {
    expect(refused({ sendLink, freshLinks: { baseUrl } }).message).toContain("freshLinks.baseUrl");
  });

  it("refuses scopes that are not true or a list of scopes, and unknown keys", () => {
    expect(
      refused({ sendLink, freshLinks: { baseUrl: BASE, scopes: "ALL" as never } }).message,
    ).toContain("freshLinks.scopes");
    expect(
      refused({ sendLink, freshLinks: { baseUrl: BASE, scope: ["A"] } as never }).message,
    ).toContain("freshLinks.scope");
  });

  it("refuses a store that cannot renew passes", () => {
    const store = { renew: undefined } as unknown as VisitorStore;
    const methods = VISITOR_STORE_METHODS;
    for (const method of methods) (store as any)[method] = () => Promise.resolve(null);
    expect(refused({ store, sendLink, freshLinks: { baseUrl: BASE } }).message).toContain(
      "renew()",
    );
  });

  it("keeps the origin of baseUrl, and the page given", () => {
    const page = () => "<p>mine</p>";
    const { freshLinks } = createVisitorPass({
      env: {},
      sendLink,
      freshLinks: { baseUrl: "https://App.Example:8443/", page },
    }).config;
    expect(freshLinks?.origin).toBe("https://app.example:8443");
    expect(freshLinks?.page).toBe(page);
  });
});
