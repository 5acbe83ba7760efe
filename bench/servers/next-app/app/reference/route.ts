import { withVisitor } from "../../visitor-pass";

export const dynamic = "force-dynamic";

/** The guarded route: the adapter's whole request flow around it, each visit logged. */
export const GET = withVisitor(
  { scope: "REFERENCE_REQUEST", logVisit: process.env.BENCH_LOG !== "0" },
  (_request, { visitor }) => Response.json({ who: visitor?.uuid ?? null }),
);
