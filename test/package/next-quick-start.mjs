// The Next.js quick start (examples/quick-start/next, the files docs/getting-started/next.md
// shows) as a user runs it from the installed package: `next build`, `next start`, then Ginger's
// link, her page, a stranger refused, and her Server Action ending the visit.
//
//   node next-quick-start.mjs        (in a project with visitor-pass, next, react installed)
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { createVisitorPass } from "visitor-pass";

const env = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: "1",
  VISITOR_PASS_SECRET: "next-quick-start-secret-of-32+chars",
  VISITOR_PASS_DATABASE_URL: "sqlite:next-quick-start.sqlite3",
};
const fail = (message) => {
  console.error(`ERROR: ${message}`);
  process.exit(1);
};

const build = spawnSync("npx", ["--no-install", "next", "build"], { env, stdio: "inherit" });
if (build.status !== 0) fail(`next build exited ${build.status}`);

const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const origin = `http://127.0.0.1:${port}`;
const server = spawn("npx", ["--no-install", "next", "start", "-H", "127.0.0.1", "-p", `${port}`], {
  env,
  stdio: ["ignore", "inherit", "inherit"],
  detached: true,
});
const stop = () => {
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {}
};
process.on("exit", stop);

try {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(origin).then(
      (response) => response.status,
      () => 0,
    );
    if (up === 200) break;
    if (Date.now() > deadline) fail("next start did not answer within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  const passes = createVisitorPass({ database: env.VISITOR_PASS_DATABASE_URL });
  await passes.migrate();
  const ginger = await passes.create({
    email: "ginger@example.org",
    firstName: "Ginger",
    lastName: "Rogers",
    scope: "REFERENCE_REQUEST",
  });

  const landing = await fetch(passes.tokenise(`${origin}/reference`, ginger), {
    redirect: "manual",
  });
  if (landing.status !== 302) fail(`the link answered ${landing.status}, not 302`);
  const cookie = landing.headers.getSetCookie()[0]?.split(";")[0];
  if (!cookie?.startsWith("visitor_pass=")) fail("the link set no visitor_pass cookie");
  const page = await fetch(`${origin}/reference`, { headers: { cookie } });
  const html = await page.text();
  if (page.status !== 200 || !/Hello (<!-- -->)?Ginger/.test(html)) {
    fail(`Ginger's page answered ${page.status} without her name`);
  }
  const stranger = await fetch(`${origin}/reference`);
  if (stranger.status !== 403) fail(`a stranger got ${stranger.status}, not 403`);

  // The form as a browser without JavaScript posts it.
  const field = /name="(\$ACTION_ID_[0-9a-f]+)"/.exec(html)?.[1];
  if (!field) fail("the page has no Server Action form");
  const body = new FormData();
  body.set(field, "");
  body.set("text", "Fred is a fine colleague.");
  const sent = await fetch(`${origin}/reference`, {
    method: "POST",
    body,
    headers: { cookie, origin },
    redirect: "manual",
  });
  if (sent.status !== 303) fail(`the Server Action answered ${sent.status}, not 303`);
  if (!/visitor_pass=;/.test(sent.headers.getSetCookie().join("\n"))) {
    fail("the Server Action did not clear the visitor_pass cookie");
  }
  const after = await fetch(`${origin}/reference`, { headers: { cookie: "visitor_pass=" } });
  if (after.status !== 403) fail(`after clearVisitor() the page answered ${after.status}`);
  await passes.close();
  console.log(
    "the Next.js quick start: built, started, admitted Ginger, refused a stranger, cleared",
  );
} finally {
  stop();
}
