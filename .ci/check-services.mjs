// Checks that the services the test suite talks to are up and accept our login, before any test
// runs, so that a missing service fails CI with one clear line instead of a wall of test errors.
//
// Usage: node .ci/check-services.mjs   (from a checkout whose node_modules has `pg` and `mysql2`)
// On success it prints `export NAME='url'` lines on stdout (for `eval`) and a summary on stderr.
// A URL already set in the environment is checked as given instead of the defaults below.
// Exit status 1 when any service is missing or refuses the login.

import net from "node:net";

const TIMEOUT_MS = 5000;

const services = [
  {
    name: "PostgreSQL",
    env: "VISITOR_PASS_TEST_POSTGRES_URL",
    // trust auth: both roles exist on these machines; the first that logs in is used.
    candidates: ["postgres://postgres@127.0.0.1:5432/test", "postgres://root@127.0.0.1:5432/test"],
    login: loginPostgres,
    start: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
  },
  {
    name: "MariaDB",
    env: "VISITOR_PASS_TEST_MYSQL_URL",
    candidates: ["mysql://root@127.0.0.1:3306/test"],
    login: loginMysql,
    start: "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
  },
  {
    name: "Redis",
    env: "VISITOR_PASS_TEST_REDIS_URL",
    candidates: ["redis://127.0.0.1:6379"],
    login: pingRedis,
    start:
      'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no',
  },
];

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer in ${TIMEOUT_MS} ms`)),
      TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function hostPort(url, defaultPort) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || defaultPort) };
}

function tcpReachable({ host, port }) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", (err) => {
        socket.destroy();
        reject(new Error(`nothing listening at ${host}:${port} (${err.code ?? err.message})`));
      });
    }),
    `TCP connect to ${host}:${port}`,
  );
}

async function loginPostgres(url) {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  try {
    await withTimeout(client.connect(), "PostgreSQL login");
    const { rows } = await withTimeout(
      client.query("select current_user as who, split_part(version(), ' ', 2) as version"),
      "PostgreSQL query",
    );
    return `user ${rows[0].who}, PostgreSQL ${rows[0].version}`;
  } finally {
    await client.end().catch(() => {});
  }
}

async function loginMysql(url) {
  const mysql = await import("mysql2/promise");
  const connection = await withTimeout(mysql.createConnection(url), "MariaDB login");
  try {
    const [rows] = await withTimeout(
      connection.query("select current_user() as who, version() as version"),
      "MariaDB query",
    );
    return `user ${rows[0].who}, ${rows[0].version}`;
  } finally {
    await connection.end().catch(() => {});
  }
}

function pingRedis(url) {
  const { host, port } = hostPort(url, 6379);
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      let reply = "";
      socket.once("connect", () => socket.write("PING\r\n"));
      socket.on("data", (chunk) => {
        reply += chunk.toString("latin1");
        if (reply.includes("\r\n")) {
          socket.destroy();
          if (reply.startsWith("+PONG")) resolve("PING answered PONG");
          else reject(new Error(`PING answered ${JSON.stringify(reply.trim())}`));
        }
      });
      socket.once("error", (err) => {
        socket.destroy();
        reject(err);
      });
    }),
    "Redis PING",
  );
}

const defaultPorts = { postgres: 5432, postgresql: 5432, mysql: 3306, redis: 6379 };

async function check(service) {
  const given = process.env[service.env];
  const candidates = given ? [given] : service.candidates;
  const { host, port } = hostPort(
    candidates[0],
    defaultPorts[new URL(candidates[0]).protocol.slice(0, -1)],
  );
  try {
    await tcpReachable({ host, port });
  } catch (err) {
    return { ok: false, down: true, service, why: err.message };
  }
  const failures = [];
  for (const url of candidates) {
    try {
      const detail = await service.login(url);
      return { ok: true, service, url, detail };
    } catch (err) {
      failures.push(`${redact(url)}: ${err.message}`);
    }
  }
  return { ok: false, down: false, service, why: `reachable, but ${failures.join("; ")}` };
}

function redact(url) {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

function shellQuote(value) {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

const results = await Promise.all(services.map(check));
let failed = false;
for (const r of results) {
  if (r.ok) {
    console.error(`ok      ${r.service.name} at ${redact(r.url)} (${r.detail})`);
  } else {
    failed = true;
    console.error(`FAILED  ${r.service.name}: ${r.why}`);
    if (r.down) {
      console.error("        the test suite needs it; on this machine it is started with:");
      console.error(`        ${r.service.start}`);
    }
  }
}
if (failed) {
  console.error("Service check failed: the test suite cannot run without these services.");
  process.exit(1);
}
for (const r of results) {
  console.log(`export ${r.service.env}=${shellQuote(r.url)}`);
}
