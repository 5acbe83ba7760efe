import { createVisitorPass } from "visitor-pass";
import { visitorPassNext } from "visitor-pass/next";

// Next evaluates this module once for the proxy and once for the pages: the secret must be the
// same in both, so it comes from the environment, never from a random value made here.
const secret = process.env.VISITOR_PASS_SECRET ?? "an example secret: set VISITOR_PASS_SECRET!";

export const passes = createVisitorPass({
  database: process.env.VISITOR_PASS_DATABASE_URL ?? "sqlite:visitor-pass-next-example.sqlite3",
});

export const { proxy, requireVisitor, clearVisitor, selfService } = visitorPassNext(passes, {
  secret,
});

export const REFERENCE = "REFERENCE_REQUEST";
