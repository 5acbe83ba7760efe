/**
 * Runs one app process of the scale-out example; start as many as you like, on other ports or
 * other machines, with the same environment:
 *
 *   DATABASE_URL=postgres://…  REDIS_URL=redis://127.0.0.1:6379  SESSION_SECRET=<32+ characters> \
 *   PORT=3001 npm run example:scale-out
 *
 * PORT (default 3000; 0 picks a free one), HOST (default: every interface), DATABASE_URL (or
 * VISITOR_PASS_DATABASE_URL: postgres://… or mysql://…, shared by every process), REDIS_URL
 * (default redis://127.0.0.1:6379), SESSION_SECRET (required, the same everywhere), TRUST_PROXY
 * (Express's "trust proxy": true, a hop count or addresses; default "loopback"),
 * VISITOR_PASS_TABLE_PREFIX (default "visitor_pass_"), SESSION_PREFIX (Redis key prefix,
 * default "sess:") and PASS_CACHE ("listen" for `passCache: "listen"` on PostgreSQL: passes
 * cached in each process, kept in step by LISTEN/NOTIFY; default: every request reads its pass).
 *
 * Prints "READY <port>" once it listens. On SIGTERM or SIGINT it stops taking connections,
 * finishes the requests in flight, writes the queued visit logs and disconnects.
 */
import type { AddressInfo } from "node:net";
import { RedisStore } from "connect-redis";
import { createClient } from "redis";
import { closeGracefully, createVisitorPass, handleSignals } from "../../src/index.js";
import { createApp } from "./app.js";

function fail(message: string): never {
  console.error(`scale-out example: ${message}`);
  process.exit(1);
}

const env = process.env;
const databaseUrl = env.DATABASE_URL ?? env.VISITOR_PASS_DATABASE_URL;
if (!databaseUrl || !/^(postgres|postgresql|mysql|mariadb):\/\//i.test(databaseUrl)) {
  fail("set DATABASE_URL to a postgres:// or mysql:// URL that every process shares.");
}
const sessionSecret = env.SESSION_SECRET ?? "";
if (sessionSecret.length < 32) {
  fail("set SESSION_SECRET to the same secret of 32 characters or more in every process.");
}
const port = Number(env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT=${env.PORT} is not a port.`);

const passes = createVisitorPass({
  database: databaseUrl,
  ...(env.VISITOR_PASS_TABLE_PREFIX ? { tablePrefix: env.VISITOR_PASS_TABLE_PREFIX } : {}),
  ...(env.PASS_CACHE === "listen" ? { passCache: "listen" as const } : {}),
});
// Every process runs it at start: it applies what is missing, once, even when they race.
await passes.migrate();

const redis = createClient({ url: env.REDIS_URL ?? "redis://127.0.0.1:6379" });
redis.on("error", (error: Error) => console.error(`scale-out example: Redis: ${error.message}`));
await redis.connect();

const app = createApp({
  passes,
  sessionStore: new RedisStore({ client: redis, prefix: env.SESSION_PREFIX ?? "sess:" }),
  sessionSecret,
  trustProxy: trustProxy(env.TRUST_PROXY),
});

const onListening = (error?: Error) => {
  if (error) fail(`could not listen on port ${port}: ${error.message}`);
  console.log(`READY ${(server.address() as AddressInfo).port}`);
};
const server = env.HOST ? app.listen(port, env.HOST, onListening) : app.listen(port, onListening);

// Stops taking connections, finishes the requests in flight (keep-alive clients are told to go
// away: the balancer sends them to the other processes), writes the queued visit logs.
handleSignals(async () => {
  await closeGracefully(server, passes);
  await redis.close();
});

function trustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === "") return "loopback";
  if (value === "true" || value === "false") return value === "true";
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
