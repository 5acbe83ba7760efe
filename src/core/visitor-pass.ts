import { randomUUID } from "node:crypto";
import type { SelfServiceBackend } from "../self-service/self-service.js";
import type { SelfServiceFields } from "../self-service/self-service-schema.js";
import { KyselyStore } from "../store/kysely/kysely-store.js";
import type { VisitorStore } from "../store/store.js";
import { type ResolvedConfig, resolveConfig, type VisitorPassOptions } from "./config.js";
import { VisitorPassError, VisitorPassValidationError } from "./errors.js";
import { clip, type FlowBackend, VisitorFlow, type VisitRequest } from "./flow.js";
import { loggedAddress } from "./network.js";
import { addToken, parseToken } from "./tokens.js";
import {
  type CreateVisitorInput,
  createInput,
  type ListVisitorsInput,
  listInput,
  parse,
} from "./validation.js";
import { Visitor, type VisitorLog, type VisitorRecord } from "./visitor.js";

export interface VisitorPassEvents {
  /** A visitor completed the self-service form: send them their link (`passes.tokenise`). */
  selfServiceVisitorCreated: (visitor: Visitor) => void | Promise<void>;
}

export interface PurgeOptions {
  /** Passes whose `expiresAt` is before this are deleted. @default now */
  before?: Date;
  /** Called after each batch with the number deleted so far (purges run in batches of 1000). */
  onProgress?: (purged: number) => void;
}

const FLOW = Symbol("visitor-pass.flow");
const SELF_SERVICE = Symbol("visitor-pass.self-service");

/** The pass service: create, look up and manage passes; the flow adapters run requests through. */
export class VisitorPass {
  readonly config: ResolvedConfig;
  readonly [FLOW]: VisitorFlow;
  readonly [SELF_SERVICE]: SelfServiceBackend;
  readonly #store: VisitorStore;
  readonly #listeners = new Map<keyof VisitorPassEvents, Set<(...args: never[]) => unknown>>();
  readonly #pending = new Set<Promise<void>>();

  constructor(options: VisitorPassOptions = {}) {
    this.config = resolveConfig(options);
    this.#store = new KyselyStore(this.config.database, this.config.tablePrefix);
    const backend: FlowBackend = {
      config: this.config,
      find: (uuid) => this.#find(uuid),
      spendUse: async (uuid) => this.#wrap(await this.#store.admit(uuid, this.config.now())),
      recordVisit: (visitor, request, sessionId, status) =>
        this.#recordVisit(visitor, request, sessionId, status),
      createPending: (scope, redirectTo, sessionExpiry) =>
        this.#createPending(scope, redirectTo, sessionExpiry),
    };
    this[FLOW] = new VisitorFlow(backend);
    this[SELF_SERVICE] = {
      config: this.config,
      find: (uuid) => this.#find(uuid),
      claim: (pending, fields) => this.#claim(pending, fields),
      created: (visitor) => this.emit("selfServiceVisitorCreated", visitor),
    };
  }

  /** Creates or updates the tables. Idempotent; safe to run at every start. */
  migrate(): Promise<void> {
    return this.#store.migrate();
  }

  /** Creates a pass; throws `VisitorPassValidationError` (writing nothing) for bad input. */
  async create(input: CreateVisitorInput): Promise<Visitor> {
    const data = parse(createInput, input);
    const now = this.config.now();
    const record = await this.#store.insert({
      uuid: randomUUID(),
      firstName: data.firstName,
      lastName: data.lastName,
      email: data.email,
      scope: data.scope,
      context: data.context as Record<string, unknown> | null,
      createdAt: now,
      lastUpdatedAt: now,
      expiresAt: data.expiresAt === undefined ? this.#linkExpiry(now) : data.expiresAt,
      isActive: true,
      sessionExpiry:
        data.sessionExpiry === undefined ? this.config.sessionExpiry : data.sessionExpiry,
      maxUses: data.maxUses,
      uses: 0,
    });
    return this.#wrap(record)!;
  }

  /** The pass with this token, or `null`; throws `MalformedVisitorToken` for a non-uuid. */
  get(uuid: string): Promise<Visitor | null> {
    return this.#find(parseToken(uuid));
  }

  /** `url` with `?<querystringKey>=<uuid>` added (replacing one already there), all else kept. */
  tokenise(url: string, visitorOrUuid: Visitor | string): string {
    const uuid = parseToken(
      typeof visitorOrUuid === "string" ? visitorOrUuid : visitorOrUuid?.uuid,
    );
    return addToken(String(url), this.config.querystringKey, uuid);
  }

  /** Turns the pass off: its link and every session holding it stop working at once. */
  async deactivate(uuid: string): Promise<Visitor | null> {
    const record = await this.#store.update(parseToken(uuid), {
      isActive: false,
      lastUpdatedAt: this.config.now(),
    });
    return this.#wrap(record);
  }

  /** Turns the pass back on, its link valid for another `tokenExpiry` seconds. */
  async reactivate(uuid: string): Promise<Visitor | null> {
    const now = this.config.now();
    const record = await this.#store.update(parseToken(uuid), {
      isActive: true,
      expiresAt: this.#linkExpiry(now),
      lastUpdatedAt: now,
    });
    return this.#wrap(record);
  }

  /** The pass's visit logs, newest first (visits still being written are waited for). */
  async logs(uuid: string): Promise<VisitorLog[]> {
    const visitor = await this.get(uuid);
    if (!visitor) return [];
    await this.flush();
    return this.#store.logs(visitor.id);
  }

  /** Passes, newest first, filtered by scope, activity and a search over names, email and scope. */
  async list(filter: ListVisitorsInput = {}): Promise<Visitor[]> {
    const data = parse(listInput, filter);
    const records = await this.#store.list(data);
    return records.map((record) => this.#wrap(record)!);
  }

  /** Deletes passes whose `expiresAt` is before `before` (default now), with their logs. */
  async purge(options: PurgeOptions = {}): Promise<number> {
    const before = options.before ?? this.config.now();
    if (!(before instanceof Date) || Number.isNaN(before.getTime())) {
      throw new VisitorPassValidationError({ before: ["Must be a date."] });
    }
    await this.flush();
    return this.#store.purge(before, { onBatch: options.onProgress });
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends keyof VisitorPassEvents>(event: E, listener: VisitorPassEvents[E]): () => void {
    const listeners = this.#listeners.get(event) ?? new Set();
    listeners.add(listener);
    this.#listeners.set(event, listeners);
    return () => listeners.delete(listener);
  }

  /** Calls every listener of `event` in turn, waiting for each. */
  async emit<E extends keyof VisitorPassEvents>(
    event: E,
    ...args: Parameters<VisitorPassEvents[E]>
  ): Promise<void> {
    for (const listener of this.#listeners.get(event) ?? []) {
      await (listener as (...a: typeof args) => unknown)(...args);
    }
  }

  /** Waits for visit logs still being written. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Writes what is pending and releases the database (unless the app owns it). */
  async close(): Promise<void> {
    await this.flush();
    await this.#store.close();
  }

  async #find(uuid: string): Promise<Visitor | null> {
    return this.#wrap(await this.#store.findByUuid(uuid));
  }

  #wrap(record: VisitorRecord | null): Visitor | null {
    return record ? new Visitor(record, this.config.now) : null;
  }

  async #createPending(
    scope: string,
    redirectTo: string,
    sessionExpiry: number | null | undefined,
  ): Promise<Visitor> {
    const now = this.config.now();
    const record = await this.#store.insert({
      uuid: randomUUID(),
      firstName: "",
      lastName: "",
      email: "",
      scope,
      context: { selfService: true, redirectTo },
      createdAt: now,
      lastUpdatedAt: now,
      expiresAt: this.#linkExpiry(now),
      isActive: false,
      sessionExpiry: sessionExpiry === undefined ? this.config.sessionExpiry : sessionExpiry,
      maxUses: null,
      uses: 0,
    });
    return this.#wrap(record)!;
  }

  async #claim(pending: Visitor, fields: SelfServiceFields): Promise<Visitor | null> {
    const now = this.config.now();
    const record = await this.#store.claim(pending.uuid, randomUUID(), {
      ...fields,
      context: { ...pending.context, claimedAt: now.toISOString() },
      expiresAt: this.#linkExpiry(now),
      lastUpdatedAt: now,
    });
    return this.#wrap(record);
  }

  #linkExpiry(from: Date): Date {
    return new Date(from.getTime() + this.config.tokenExpiry * 1000);
  }

  #recordVisit(visitor: Visitor, request: VisitRequest, sessionId: string | null, status: number) {
    const { path, query } = this[FLOW].describe(request);
    const write = this.#store
      .insertLog({
        visitorId: visitor.id,
        sessionKey: sessionId === null ? null : clip(sessionId, 255),
        httpMethod: clip(request.method.toUpperCase(), 16),
        requestUri: path,
        queryString: query,
        httpUserAgent: clipped(request.userAgent, 1000),
        httpReferer: clipped(request.referer, 2000),
        remoteAddr: clipped(loggedAddress(request.ip, this.config.anonymizeIp), 64),
        statusCode: status,
        timestamp: this.config.now(),
      })
      .catch((error: unknown) => {
        console.error(`visitor-pass: could not write a visit log: ${(error as Error).message}`);
      })
      .finally(() => this.#pending.delete(write));
    this.#pending.add(write);
  }
}

function clipped(value: string | null, length: number): string | null {
  return value === null ? null : clip(value, length);
}

/** The request flow of `passes`, for adapters; a clear error when `passes` is something else. */
export function flowOf(passes: VisitorPass, caller: string): VisitorFlow {
  const flow = (passes as Partial<VisitorPass> | undefined)?.[FLOW];
  if (!flow) {
    throw new VisitorPassError(
      `${caller} needs the object createVisitorPass() returned, e.g. ${caller.replace("()", "(passes)")}.`,
      "VISITOR_PASS_SETUP",
    );
  }
  return flow;
}

/** The self-service backend of `passes`, for the self-service pages of each adapter. */
export function selfServiceOf(passes: VisitorPass, caller: string): SelfServiceBackend {
  flowOf(passes, caller);
  return passes[SELF_SERVICE];
}

/** Creates the pass service. Does no I/O: the database is opened on first use. */
export function createVisitorPass(options?: VisitorPassOptions): VisitorPass {
  return new VisitorPass(options);
}
