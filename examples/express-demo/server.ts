import type { AddressInfo } from "node:net";
import { closeGracefully, createVisitorPass, handleSignals } from "../../src/index.js";
import { createDemoApp } from "./app.js";

// No database option: VISITOR_PASS_DATABASE_URL if set, else sqlite:visitor-pass.sqlite3 here.
const passes = createVisitorPass();
await passes.migrate();

const port = Number(process.env.PORT ?? 3000);
const app = createDemoApp({ passes, sessionSecret: process.env.SESSION_SECRET });

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
