import { createVisitorPass } from "visitor-pass";
import { visitorPassNext } from "visitor-pass/next";

// VISITOR_PASS_DATABASE_URL, or sqlite:visitor-pass.sqlite3
export const passes = createVisitorPass();
export const { proxy, requireVisitor, clearVisitor, selfService } = visitorPassNext(passes, {
  // The same in every bundle Next makes of this module: from the environment.
  secret: process.env.VISITOR_PASS_SECRET!,
});
