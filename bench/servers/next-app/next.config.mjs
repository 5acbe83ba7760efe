import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");

/** The Next.js app of the bench (bench/run.ts builds it once with `next build`). */
export default {
  // The proxy sees the URL as the client sent it, as the adapter's guide recommends.
  skipProxyUrlNormalize: true,
  // visitor-pass comes from this repository's build (dist/), as the other bench servers take it.
  turbopack: {
    root,
    resolveAlias: {
      "visitor-pass/next": "../../../dist/adapters/next/index.js",
      "visitor-pass": "../../../dist/index.js",
    },
  },
  outputFileTracingRoot: root,
  // The bench routes are checked by this build (the repository typecheck leaves them out).
  serverExternalPackages: ["better-sqlite3"],
};
