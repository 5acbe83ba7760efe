import { createVisitorPass } from "visitor-pass";
import { visitorPassNext } from "visitor-pass/next";

// Next evaluates this module once for the proxy and once for the routes: both open the same
// database (a file: `sqlite::memory:` would be two databases) with the same secret.
export const passes = createVisitorPass({
  database: process.env.BENCH_DATABASE ?? "sqlite:bench-next.sqlite3",
  env: {},
  passCache:
    ({ 0: false, listen: "listen" } as const)[process.env.BENCH_PASS_CACHE as "0" | "listen"] ??
    true,
});

export const { proxy, withVisitor } = visitorPassNext(passes, {
  secret: "bench-secret-bench-secret-bench-secret",
});
