import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The fixture app of the Next.js behaviour suite (test/behaviour/next-harness.ts builds it). */
export default {
  // The proxy sees the URL as the client sent it: a landing's redirect keeps the other query
  // parameters byte for byte (Next otherwise re-encodes the query for the proxy).
  skipProxyUrlNormalize: true,
  // forbidden() in requireVisitor.
  experimental: { authInterrupts: true },
  // The repository's typecheck covers these files; the build need not check them again.
  typescript: { ignoreBuildErrors: true },
  distDir: process.env.VISITOR_PASS_NEXT_DIST_DIR || ".next",
  // The package as it is published, compiled from the repository's source by the harness.
  turbopack: {
    root: join(here, "../../.."),
    resolveAlias: {
      "visitor-pass/next": "./.visitor-pass/adapters/next/index.js",
      "visitor-pass": "./.visitor-pass/index.js",
    },
  },
  outputFileTracingRoot: join(here, "../../.."),
};
