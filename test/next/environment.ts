// What `next start` sets up before anything else (AsyncLocalStorage on globalThis, which
// next/headers needs as soon as it loads): imported first by the harness, before the adapter.
import "next/dist/server/node-environment.js";
