import { AsyncLocalStorage } from "node:async_hooks";
import { rmSync } from "node:fs";
import { mkdtemp, symlink } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { userIsVisitor } from "../../src/adapters/fetch/index.js";
import type { VisitorPassNext } from "../../src/adapters/next/index.js";
import type { VisitorPass } from "../../src/index.js";
import { userOf } from "../next/app/lib.js";
import { buildFixture, FIXTURE } from "../next/build.js";
import type { FrameworkHarness, RunningApp } from "./harness.js";
import { HONO_SECRET, openStash, STASH_COOKIE } from "./hono-harness.js";
import { APP_COOKIE_MAX_AGE } from "./routes.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Node's own Web classes, as this module first sees them. @hono/node-server (the Hono and fetch
 * harnesses, in the same test process) puts lighter ones of its own on `globalThis`, which a
 * route's `Response.json()` would then build, and Next refuses what is no `Response` of its own.
 */
const WEB_CLASSES = {
  Request: globalThis.Request,
  Response: globalThis.Response,
  Headers: globalThis.Headers,
};

function restoreWebClasses(): void {
  for (const [name, value] of Object.entries(WEB_CLASSES)) {
    if ((globalThis as Record<string, unknown>)[name] !== value) {
      Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
    }
  }
}

/**
 * The instance each request is served with. One Next server per test process serves every app a
 * test starts (each on a port of its own, each with the passes the test built): the fixture's
 * routes use the top-level exports of `visitor-pass/next`, which find the configured instance in
 * a registry every bundle shares; here it answers the instance of the app the request came to.
 */
const serving = new AsyncLocalStorage<VisitorPassNext>();
Object.defineProperty(globalThis, Symbol.for("visitor-pass.next"), {
  configurable: true,
  value: {
    get current() {
      return serving.getStore();
    },
    set current(_instance: VisitorPassNext | undefined) {
      // Each app is served with its own instance, never with the last one configured.
    },
  },
});

/** The part of Next's programmatic server (`next()`, what `next start` runs) used here. */
type CreateNext = (options: {
  dev: boolean;
  dir: string;
  hostname: string;
  port: number;
  quiet: boolean;
}) => { prepare(): Promise<void>; getRequestHandler(): Handler; close(): Promise<void> };

let ready: Promise<CreateNext> | undefined;
let linkFolder: Promise<string> | undefined;

/** A temporary folder for this process's links to the fixture, removed when it exits. */
function links(): Promise<string> {
  linkFolder ??= mkdtemp(join(tmpdir(), "visitor-pass-next-")).then((folder) => {
    process.once("exit", () => rmSync(folder, { recursive: true, force: true }));
    return folder;
  });
  return linkFolder;
}

/**
 * Next's server over the fixture app, built once (see `buildFixture`), in production mode. Loaded
 * by name rather than typed from "next", whose global types would change `process.env`'s.
 */
function nextServer(): Promise<CreateNext> {
  ready ??= (async () => {
    await import("../next/environment.js");
    await buildFixture();
    return createRequire(import.meta.url)("next") as CreateNext;
  })();
  return ready;
}

function stashSessionId(cookieValue: string): string | null {
  const sid = openStash(cookieValue)?.sid;
  return typeof sid === "string" ? sid : null;
}

/** The first address of X-Forwarded-For, which Next sets to the socket's when the client did not. */
function forwardedFor(request: Request): string | null {
  return request.headers.get("x-forwarded-for")?.split(",")[0]?.trim() || null;
}

export const nextHarness: FrameworkHarness = {
  name: "next",
  capabilities: {
    serverSession: false,
    splitMiddleware: false,
    guardMiddleware: false,
    missingSession: "none",
    sessionPackage: null,
    normalisesTargets: true,
  },
  async start(passes: VisitorPass, options = {}): Promise<RunningApp> {
    const setup = options.setup ?? "standard";
    if (setup !== "standard") {
      throw new Error(`next has one proxy and no session layer: no "${setup}" setup`);
    }
    const next = await nextServer();
    // Loaded once Next's environment is (see `environment.ts`), by the tests that start an app.
    const { visitorPassNext } = await import("../../src/adapters/next/index.js");
    const instance = visitorPassNext(passes, {
      secret: HONO_SECRET,
      cookieName: STASH_COOKIE,
      maxAge: APP_COOKIE_MAX_AGE,
      isAuthenticated: (request) => userOf(request) !== null,
      clientAddress: forwardedFor,
      ...(options.selfService ? { selfService: options.selfService } : {}),
    });
    let handle: Handler | undefined;
    const server = createServer((req, res) => {
      restoreWebClasses();
      serving.run(instance, () => {
        handle!(req, res).catch((error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    // Next must know its own origin, as `next start -p` tells it (a proxy's redirects are
    // absolute). It keeps one server per folder for the process: each app gets a folder of its
    // own, a link to the one fixture.
    const dir = join(await links(), `app-${port}`);
    await symlink(FIXTURE, dir, "dir");
    const app = next({ dev: false, dir, hostname: "127.0.0.1", port, quiet: true });
    await app.prepare();
    handle = app.getRequestHandler();
    return {
      url: `http://127.0.0.1:${port}`,
      sessionCookie: STASH_COOKIE,
      sessionIdOf: stashSessionId,
      close: () =>
        new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          // Responses still streaming (a test that read the status only) end first: cut, their
          // bodies would reject in the client's fetch with nobody to hear it.
          server.closeIdleConnections();
          const idle = setInterval(() => server.closeIdleConnections(), 10);
          setTimeout(() => {
            clearInterval(idle);
            server.closeAllConnections();
          }, 1000).unref();
          server.once("close", () => clearInterval(idle));
        }),
    };
  },
  guard(options) {
    // The check `withVisitor` makes when it wraps a route.
    return userIsVisitor(options);
  },
};
