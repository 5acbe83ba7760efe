import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

export default {
  // requireVisitor() refuses with forbidden(), which Next puts behind this flag.
  experimental: { authInterrupts: true },
  // The proxy sees the URL as the client sent it, so the redirect off a token keeps the rest of
  // the query byte for byte.
  skipProxyUrlNormalize: true,
  // In your app `visitor-pass` comes from node_modules; here, from this repository's build.
  turbopack: {
    root,
    resolveAlias: {
      "visitor-pass/next": "../../dist/adapters/next/index.js",
      "visitor-pass": "../../dist/index.js",
    },
  },
  outputFileTracingRoot: root,
  serverExternalPackages: ["better-sqlite3"],
};
