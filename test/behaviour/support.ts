import { afterAll, beforeAll } from "vitest";
import type {
  CreateVisitorInput,
  Visitor,
  VisitorPass,
  VisitorPassOptions,
} from "../../src/index.js";
import { DATABASES, openPasses, type TestDatabase } from "../support/databases.js";
import { Client, type RedirectMode } from "./client.js";
import type { FrameworkHarness, HarnessOptions, RunningApp } from "./harness.js";
import { REFERENCE_SCOPE } from "./routes.js";

/** Long enough for the Next.js fixture app to be built on the first start of a run. */
const FIRST_START_TIMEOUT_MS = 180_000;

export const SQLITE: TestDatabase = DATABASES.find((database) => database.name === "sqlite")!;

/** `[harness, database]` pairs for `describe.each`, every database (skipped ones included). */
export function matrix(harnesses: FrameworkHarness[]): [string, FrameworkHarness, TestDatabase][] {
  return harnesses.flatMap((harness) =>
    DATABASES.map((database): [string, FrameworkHarness, TestDatabase] => [
      `${harness.name} on ${database.name}`,
      harness,
      database,
    ]),
  );
}

export interface AppContext {
  readonly passes: VisitorPass;
  readonly app: RunningApp;
  /** Table prefix of this pass service (see `openPasses`). */
  readonly prefix: string;
  client(redirect?: RedirectMode): Client;
}

/**
 * One pass service (its own tables) and one running app for the enclosing `describe`, opened in
 * `beforeAll` and closed in `afterAll`; tests create their own passes in it.
 */
export function useApp(
  harness: FrameworkHarness,
  database: TestDatabase,
  options: VisitorPassOptions = {},
  harnessOptions: HarnessOptions = {},
): AppContext {
  let passes: VisitorPass | undefined;
  let app: RunningApp | undefined;
  let prefix = "";
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const opened = await openPasses(database, options);
    passes = opened.passes;
    prefix = opened.prefix;
    cleanup = opened.cleanup;
    app = await harness.start(passes, harnessOptions);
    // The first start of the Next.js harness may build its fixture app (see test/next/build.ts).
  }, FIRST_START_TIMEOUT_MS);
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });
  return {
    get passes() {
      if (!passes) throw new Error("the pass service is not open yet");
      return passes;
    },
    get app() {
      if (!app) throw new Error("the app is not started yet");
      return app;
    },
    get prefix() {
      return prefix;
    },
    client(redirect) {
      return new Client(this.app.url, redirect ? { redirect } : {});
    },
  };
}

let serial = 0;

/** A pass for the reference scope unless `input` says otherwise. */
export function newPass(
  passes: VisitorPass,
  input: Partial<CreateVisitorInput> = {},
): Promise<Visitor> {
  serial += 1;
  return passes.create({
    email: `visitor${serial}@example.org`,
    scope: REFERENCE_SCOPE,
    firstName: "Vera",
    lastName: `Visit${serial}`,
    ...input,
  });
}

/** A clock tests move by hand, for the `now` option. */
export class Clock {
  #offset = 0;
  readonly now = (): Date => new Date(Date.now() + this.#offset);
  advance(seconds: number): void {
    this.#offset += seconds * 1000;
  }
  reset(): void {
    this.#offset = 0;
  }
}

export interface Who {
  visitor: string | null;
  isVisitor: boolean;
}

export async function whoami(client: Client): Promise<Who> {
  const { status, body } = await client.json<Who>("/whoami");
  if (status !== 200) throw new Error(`/whoami answered ${status}`);
  return body;
}

/**
 * Clicks `visitor`'s link to `path` (landing redirect followed by hand, without a Referer) and
 * returns the landing's response.
 */
export async function click(
  client: Client,
  passes: VisitorPass,
  visitor: Visitor | string,
  path = "/reference",
): Promise<Response> {
  const landing = await client.get(passes.tokenise(path, visitor), { redirect: "manual" });
  await landing.arrayBuffer();
  return landing;
}

export async function uses(passes: VisitorPass, uuid: string): Promise<number> {
  const visitor = await passes.get(uuid);
  if (!visitor) throw new Error(`no pass ${uuid}`);
  return visitor.uses;
}
