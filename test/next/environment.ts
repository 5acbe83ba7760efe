// What `next start` sets up before anything else (AsyncLocalStorage on globalThis, which
// next/headers needs as soon as it loads): imported first by the harness, before the adapter.
import "next/dist/server/node-environment.js";

// What the build inlines for `experimental.authInterrupts` into the bundled Next, for the
// adapter's own copy of next/navigation (`forbidden()`), which runs unbundled here.
process.env.__NEXT_EXPERIMENTAL_AUTH_INTERRUPTS = "true";
