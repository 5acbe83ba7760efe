import type { AddressInfo } from "node:net";
import { closeGracefully, handleSignals } from "../../src/index.js";
import { createDemoApp } from "./app.js";
import { createDemoPasses } from "./passes.js";
import { DemoState } from "./state.js";

const port = Number(process.env.PORT ?? 3000);
// Where fresh links point (never a request's Host): set PUBLIC_ORIGIN when served elsewhere.
const publicOrigin = process.env.PUBLIC_ORIGIN || `http://localhost:${port}`;
const state = new DemoState();
// No database option: VISITOR_PASS_DATABASE_URL if set, else sqlite:visitor-pass.sqlite3 here.
const passes = createDemoPasses({ state, publicOrigin });
await passes.migrate();

const app = createDemoApp({
  passes,
  state,
  publicOrigin: process.env.PUBLIC_ORIGIN || undefined,
  sessionSecret: process.env.SESSION_SECRET,
});

const server = app.listen(port, (error?: Error) => {
  if (error) {
    console.error(`Could not start the demo on port ${port}: ${error.message}`);
    process.exit(1);
  }
  // The port it got, when PORT=0 asked for any free one.
  const { port: listening } = server.address() as AddressInfo;
  console.log(`visitor-pass demo: http://localhost:${listening}/`);
});

// On SIGTERM or SIGINT: stop taking connections, let the requests in flight finish (keep-alive
// clients are told to go away), write the queued visit logs, close the database, exit.
handleSignals(() => closeGracefully(server, passes));
