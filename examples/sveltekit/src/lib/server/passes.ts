import { createVisitorPass } from "visitor-pass";

/** The scope of Ginger's pass: the reference pages. */
export const REFERENCE = "REFERENCE_REQUEST";
/** The scope of the passes people ask for themselves. */
export const EARLY_ACCESS = "EARLY_ACCESS";

/**
 * The pass service: in SQLite (visitor-pass.sqlite3 here) unless VISITOR_PASS_DATABASE_URL says
 * otherwise. The hooks' `init` migrates it before the first request.
 */
export const passes = createVisitorPass();

/** The references Fred has been sent (kept in memory: this is an example). */
export const references: { from: string; text: string }[] = [];

/** The links a real app would email; this one shows them on /outbox. */
export const outbox: { to: string; link: string }[] = [];

// A self-service pass is ready: its link goes out by "mail".
passes.on("selfServiceVisitorCreated", (visitor) => {
  const link = passes.tokenise(String(visitor.context?.redirectTo ?? "/early-access"), visitor);
  outbox.push({ to: visitor.email, link });
});
