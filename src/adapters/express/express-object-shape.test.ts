import { once } from "node:events";
import type { AddressInfo } from "node:net";
import express, { type Request, type Response } from "express";
import session from "express-session";
import { describe, expect, it } from "vitest";
import { addRequestState, replaceWriteHead } from "./express-object-shape.js";

const KEY = Symbol("state");

/** Runs `handle` on one real Express request (with express-session), and returns its body. */
async function onRequest(handle: (req: Request, res: Response) => void): Promise<string> {
  const app = express();
  app.use(session({ secret: "test", resave: false, saveUninitialized: false }));
  app.get("/", handle);
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`);
    return `${response.status} ${response.headers.get("x-seen") ?? ""} ${await response.text()}`;
  } finally {
    server.close();
  }
}

describe("the Express adapter's property tuning", () => {
  it("leaves a request with the properties, values and key order plain assignments give", async () => {
    const body = await onRequest((req, res) => {
      const keysBefore = Reflect.ownKeys(req);
      const state = { any: "state" };
      addRequestState(req, KEY, state, null);
      const added = Reflect.ownKeys(req).filter((key) => !keysBefore.includes(key));
      // Added afterwards, as by the app, still work.
      (req as unknown as { later: number }).later = 1;
      res.json({
        added: added.map(String),
        strings: Object.keys(req).slice(-3),
        state: (req as unknown as Record<symbol, unknown>)[KEY] === state,
        visitor: req.visitor,
        isVisitor: req.isVisitor,
      });
    });
    expect(JSON.parse(body.slice(body.indexOf("{")))).toEqual({
      added: ["visitor", "isVisitor", "Symbol(state)"],
      strings: ["visitor", "isVisitor", "later"],
      state: true,
      visitor: null,
      isVisitor: false,
    });
  });

  it("replaces the response's writeHead, calling the one it had, status and headers intact", async () => {
    const body = await onRequest((_req, res) => {
      const before = res.writeHead;
      const hadOwn = Object.hasOwn(res, "writeHead");
      replaceWriteHead(res, function (this: Response, ...args: unknown[]) {
        this.setHeader("X-Seen", `${this.getHeader("X-Seen")} ${args[0] ?? this.statusCode}`);
        return (before as (...a: unknown[]) => Response).apply(this, args);
      } as Response["writeHead"]);
      res.setHeader("X-Seen", String(hadOwn && Object.hasOwn(res, "writeHead")));
      res.status(201).send("sent");
    });
    // express-session gave the response a writeHead of its own; the replacement saw the status.
    expect(body).toBe("201 true 201 sent");
  });
});
