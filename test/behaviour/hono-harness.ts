import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { getCookie, getSignedCookie, setCookie, setSignedCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  clearVisitor,
  type HonoVisitorPassOptions,
  selfService,
  userIsVisitor,
  visitorPass,
} from "../../src/adapters/hono/index.js";
import { SCOPE_ANY, type VisitorPass } from "../../src/index.js";
import type { FrameworkHarness, HarnessOptions, RunningApp } from "./harness.js";
import {
  APP_COOKIE_MAX_AGE,
  OWN_CACHE_CONTROL,
  ownReference,
  REFERENCE_SCOPE,
  SELF_SERVICE_PATH,
} from "./routes.js";

/** Keys the stash cookie. */
export const HONO_SECRET = "behaviour-suite-stash-secret-of-32+chars";
/** Name of the stash cookie on http (the suite's servers); on https it is `__Host-` and this. */
export const STASH_COOKIE = "visitor_pass";
/** The app's own cookies: who is signed in (signed), and a bit of anonymous data. */
const USER_COOKIE = "app_user";
const CART_COOKIE = "app_cart";
const APP_SECRET = "behaviour-suite-app-secret-of-32+chars";

interface Seen {
  originalUrl: string;
  url: string;
  query: Record<string, string>;
}

type AppEnv = { Variables: { user?: string; seen?: Seen } };

function describeVisitor(c: Context) {
  const visitor = c.get("visitor") ?? null;
  return {
    visitor: visitor?.uuid ?? null,
    isVisitor: c.get("isVisitor") ?? false,
    fullName: visitor?.fullName ?? null,
  };
}

function pathAndQuery(c: Context): string {
  const url = new URL(c.req.url);
  return `${url.pathname}${url.search}`;
}

export interface HonoAppOptions extends HarnessOptions {
  /** Options for `visitorPass` beyond the suite's (`secret`, `maxAge`, `isAuthenticated`). */
  visitorPass?: HonoVisitorPassOptions;
}

/** The route table of `routes.ts`, the Hono way. */
export function buildHonoApp(passes: VisitorPass, options: HonoAppOptions = {}): Hono<AppEnv> {
  const setup = options.setup ?? "standard";
  if (setup === "split" || setup === "session-without-request" || setup === "no-session") {
    throw new Error(
      `hono has one visitorPass middleware and no session layer: no "${setup}" setup`,
    );
  }
  const app = new Hono<AppEnv>();
  // The app's own sign-in, before the visitor middleware (whose default isAuthenticated reads it).
  app.use(async (c, next) => {
    const user = await getSignedCookie(c, APP_SECRET, USER_COOKIE);
    if (user) c.set("user", user);
    await next();
  });
  if (setup !== "guard-without-middleware") {
    app.use(
      visitorPass(passes, {
        secret: HONO_SECRET,
        cookieName: STASH_COOKIE,
        maxAge: APP_COOKIE_MAX_AGE,
        isAuthenticated: (c) => c.get("user") != null,
        ...options.visitorPass,
      }),
    );
  }
  // An app middleware mounted after the visitor middleware, as a request logger would be.
  app.use(async (c, next) => {
    const url = pathAndQuery(c);
    c.set("seen", { originalUrl: url, url, query: c.req.query() });
    await next();
  });

  const guard = userIsVisitor({ scope: REFERENCE_SCOPE });
  const reference = (c: Context) => c.json(describeVisitor(c));

  // `c.text(body)` with no status answers HEAD with a 500 under @hono/node-server 1.19 (its
  // Response wrapper cannot copy a response made without init): give the status.
  app.get("/", (c) => c.text("home", 200));
  app.get("/public", (c) => c.text("public", 200));
  app.get("/reference", guard, reference);
  app.post("/reference", guard, reference);
  app.post("/reference/finish", guard, (c) => {
    clearVisitor(c);
    return c.text("done", 200);
  });
  app.get("/any", userIsVisitor({ scope: SCOPE_ANY }), reference);
  app.get(
    "/staff",
    userIsVisitor({ scope: REFERENCE_SCOPE, bypass: (c) => c.req.header("x-staff") === "yes" }),
    reference,
  );
  app.get("/nolog", userIsVisitor({ scope: REFERENCE_SCOPE, logVisit: false }), reference);
  app.get("/apply", userIsVisitor({ scope: REFERENCE_SCOPE, selfService: true }), reference);
  app.get(
    "/references/:id",
    userIsVisitor({ scope: REFERENCE_SCOPE, match: ownReference }),
    reference,
  );
  app.get("/teapot", guard, (c) => c.json(describeVisitor(c), 418));
  app.get("/own-cache", guard, (c) => {
    c.header("Cache-Control", OWN_CACHE_CONTROL);
    return c.json(describeVisitor(c));
  });
  app.get("/whoami", (c) => {
    const { visitor, isVisitor } = describeVisitor(c);
    return c.json({ visitor, isVisitor });
  });
  app.post("/login", async (c) => {
    await setSignedCookie(c, USER_COOKIE, "fred", APP_SECRET, {
      path: "/",
      httpOnly: true,
      sameSite: "Lax",
    });
    return c.text("ok", 200);
  });
  app.get("/anon-data", (c) => {
    setCookie(c, CART_COOKIE, "kept", { path: "/", maxAge: APP_COOKIE_MAX_AGE });
    return c.text("stored", 200);
  });
  app.get("/cart", (c) => c.json({ cart: getCookie(c, CART_COOKIE) ?? null }));
  app.all("/seen-url", (c) => {
    const seen = c.get("seen")!;
    c.header("x-seen-url", seen.originalUrl);
    return c.json(seen);
  });
  if (setup !== "guard-without-middleware") {
    app.route(SELF_SERVICE_PATH, selfService(passes, options.selfService));
  }

  app.onError((err, c) => {
    // userIsVisitor throws an HTTPException whose cause is the package's own error.
    const error: Error & { status?: unknown; code?: unknown } =
      err instanceof HTTPException && err.cause instanceof Error ? err.cause : err;
    const status =
      typeof error.status === "number"
        ? error.status
        : err instanceof HTTPException
          ? err.status
          : 500;
    return c.json(
      {
        error: error.name ?? "Error",
        status,
        code: error.code ?? null,
        message: error.message ?? null,
        cause: error.cause instanceof Error ? error.cause.message : null,
      },
      status as ContentfulStatusCode,
    );
  });
  return app;
}

/** What a stash cookie holds, once opened. */
export interface StashContent {
  sid: string;
  data: Record<string, string>;
  exp: number;
  age?: number;
}

/**
 * The stash cookie's key as the documented format derives it (HKDF-SHA256 of the secret), written
 * here with node:crypto apart from the adapter's Web Crypto, so the suite checks the format.
 */
function stashKey(secret: string): Buffer {
  return Buffer.from(
    hkdfSync("sha256", secret, "visitor-pass", "hono cookie stash, AES-256-GCM, v1", 32),
  );
}

/** A stash cookie value: base64url of a 12-byte IV, the AES-256-GCM ciphertext and its tag. */
export function sealStash(
  stash: StashContent,
  { name = STASH_COOKIE, secret = HONO_SECRET }: { name?: string; secret?: string } = {},
): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", stashKey(secret), iv);
  cipher.setAAD(Buffer.from(name));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(stash)), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString("base64url");
}

/** What a stash cookie value holds, or `null` when it does not open under `secret` and `name`. */
export function openStash(
  cookieValue: string,
  { name = STASH_COOKIE, secret = HONO_SECRET }: { name?: string; secret?: string } = {},
): StashContent | null {
  try {
    const bytes = Buffer.from(decodeURIComponent(cookieValue), "base64url");
    const decipher = createDecipheriv("aes-256-gcm", stashKey(secret), bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const plain = Buffer.concat([
      decipher.update(bytes.subarray(12, bytes.length - 16)),
      decipher.final(),
    ]);
    return JSON.parse(plain.toString("utf8")) as StashContent;
  } catch {
    return null;
  }
}

/** The session id inside a stash cookie value, or `null`. */
function stashSessionId(cookieValue: string): string | null {
  const sid = openStash(cookieValue)?.sid;
  return typeof sid === "string" ? sid : null;
}

export const honoHarness: FrameworkHarness = {
  name: "hono",
  capabilities: {
    serverSession: false,
    splitMiddleware: false,
    guardMiddleware: true,
    missingSession: "none",
    normalisesTargets: false,
    sessionPackage: null,
  },
  start: (passes, options = {}) => serveHono(buildHonoApp(passes, options)),
  guard(options) {
    return userIsVisitor(options);
  },
};

/**
 * Serves `app` on 127.0.0.1, port 0. Its session cookie is the stash unless `session` says which
 * cookie a plugged-in server-side session uses, and how its value names the session.
 */
export async function serveHono(
  app: Hono<AppEnv>,
  session: Pick<RunningApp, "sessionCookie" | "sessionIdOf"> = {
    sessionCookie: STASH_COOKIE,
    sessionIdOf: stashSessionId,
  },
): Promise<RunningApp> {
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(listening as Server),
    ) as Server;
    listening.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ...session,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
