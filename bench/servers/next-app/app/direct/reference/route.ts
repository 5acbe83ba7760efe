import { withVisitor } from "../../../visitor-pass";

export const dynamic = "force-dynamic";

/**
 * The same guarded route where the proxy's matcher does not reach: `withVisitor()` runs the whole
 * request flow itself (admission included), with no proxy before it.
 */
export const GET = withVisitor(
  { scope: "REFERENCE_REQUEST", logVisit: process.env.BENCH_LOG !== "0" },
  (_request, { visitor }) => Response.json({ who: visitor?.uuid ?? null }),
);
