import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createVisitorPass, VisitorPassConfigError } from "../../index.js";
import type { NewVisitor, NewVisitorLog } from "../store.js";
import { MemoryStore, MemoryStoreConstraintError } from "./memory-store.js";

const NOW = new Date("2031-05-06T07:08:09.123Z");

function pass(changes: Partial<NewVisitor> = {}): NewVisitor {
  return {
    uuid: randomUUID(),
    firstName: "Ada",
    lastName: "Lovelace",
    email: "ada@example.org",
    scope: "REF",
    context: { tags: ["a"], nested: { n: 1 } },
    createdAt: new Date(NOW),
    lastUpdatedAt: new Date(NOW),
    expiresAt: new Date(NOW.getTime() + 60_000),
    isActive: true,
    sessionExpiry: 0,
    maxUses: null,
    uses: 0,
    ...changes,
  };
}

function visit(visitorId: number): NewVisitorLog {
  return {
    visitorId,
    sessionKey: "s",
    httpMethod: "GET",
    requestUri: "/page",
    queryString: "",
    httpUserAgent: null,
    httpReferer: null,
    remoteAddr: null,
    statusCode: 200,
    timestamp: new Date(NOW),
  };
}

describe("MemoryStore", () => {
  it("keeps its own copy of what it is given, and hands out copies", async () => {
    const store = new MemoryStore();
    const input = pass();
    const created = await store.insert(input);
    input.context!.tags = ["changed"];
    input.expiresAt!.setTime(0);
    created.context!.nested = "changed";
    created.createdAt.setTime(0);
    created.uses = 99;

    const found = await store.findByUuid(input.uuid);
    expect(found?.context).toEqual({ tags: ["a"], nested: { n: 1 } });
    expect(found?.expiresAt?.getTime()).toBe(NOW.getTime() + 60_000);
    expect(found?.createdAt.getTime()).toBe(NOW.getTime());
    expect(found?.uses).toBe(0);

    (found!.context!.tags as string[]).push("b");
    found!.isActive = false;
    expect(await store.findById(created.id)).toMatchObject({
      isActive: true,
      context: { tags: ["a"] },
    });

    await store.insertLogs([visit(created.id)]);
    const [log] = await store.logs(created.id);
    log!.timestamp.setTime(0);
    log!.requestUri = "/changed";
    expect(await store.logs(created.id)).toMatchObject([{ requestUri: "/page", timestamp: NOW }]);
  });

  it("gives the context back as a database would: JSON, with dates as strings", async () => {
    const store = new MemoryStore();
    const created = await store.insert(pass({ context: { at: NOW, gone: undefined } }));
    expect(created.context).toEqual({ at: NOW.toISOString() });
    expect((await store.findByUuid(created.uuid))?.context).toEqual({ at: NOW.toISOString() });
  });

  it("refuses a second pass with the same uuid, as a unique index does", async () => {
    const store = new MemoryStore();
    const first = await store.insert(pass());
    await expect(store.insert(pass({ uuid: first.uuid }))).rejects.toBeInstanceOf(
      MemoryStoreConstraintError,
    );
    expect(await store.count({})).toBe(1);
    const pending = await store.insert(pass({ isActive: false }));
    await expect(store.claim(pending.uuid, first.uuid, {})).rejects.toBeInstanceOf(
      MemoryStoreConstraintError,
    );
    expect((await store.findByUuid(pending.uuid))?.isActive).toBe(false);
  });

  it("tells each connection, once, that passes changed through another", async () => {
    const one = new MemoryStore();
    const two = one.connect();
    expect(one.changedElsewhere()).toBe(false);
    expect(two.changedElsewhere()).toBe(false);
    const created = await one.insert(pass());
    expect((await two.findByUuid(created.uuid))?.id).toBe(created.id);
    expect(two.changedElsewhere()).toBe(true);
    expect(two.changedElsewhere()).toBe(false);

    await one.update(created.uuid, { isActive: false });
    expect(two.changedElsewhere()).toBe(true);
    await two.purge(new Date(NOW.getTime() + 120_000));
    expect(one.changedElsewhere()).toBe(true);
    expect(two.changedElsewhere()).toBe(true);
    expect(one.changedElsewhere()).toBe(false);
    // Nothing to purge: nothing changed.
    await one.purge(new Date(NOW.getTime() + 120_000));
    expect(two.changedElsewhere()).toBe(false);
  });

  it("refuses calls on a closed connection, and leaves the others open", async () => {
    const one = new MemoryStore();
    const two = one.connect();
    const created = await one.insert(pass());
    await two.close();
    await two.close();
    await expect(two.findByUuid(created.uuid)).rejects.toThrow(/closed/);
    expect((await one.findByUuid(created.uuid))?.id).toBe(created.id);
  });
});

describe("the store option", () => {
  it("stores passes in the given store, without opening the database", async () => {
    const store = new MemoryStore();
    // A database in the environment that cannot be opened: the store is used instead.
    const passes = createVisitorPass({
      store,
      env: { VISITOR_PASS_DATABASE_URL: "sqlite:/nonexistent-directory/passes.sqlite3" },
    });
    await passes.migrate();
    const created = await passes.create({ email: "m@example.org", scope: "S" });
    expect((await store.findByUuid(created.uuid))?.email).toBe("m@example.org");
    await passes.close();
    await expect(store.findByUuid(created.uuid)).rejects.toThrow(/closed/);
  });

  it("serves no stale pass from the cache when another service changed it", async () => {
    const store = new MemoryStore();
    const one = createVisitorPass({ store, env: {} });
    const two = createVisitorPass({ store: store.connect(), env: {} });
    const created = await one.create({ email: "c@example.org", scope: "S" });
    expect((await one.get(created.uuid))?.isActive).toBe(true);
    expect((await one.get(created.uuid))?.isActive).toBe(true);
    await two.deactivate(created.uuid);
    expect((await one.get(created.uuid))?.isActive).toBe(false);
    await Promise.all([one.close(), two.close()]);
  });

  it("refuses a value that is not a store", () => {
    for (const store of [{}, "memory:", { findByUuid: () => null }]) {
      expect(() => createVisitorPass({ store: store as never, env: {} })).toThrow(
        VisitorPassConfigError,
      );
    }
  });
});
