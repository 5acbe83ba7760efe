// In your app: from "visitor-pass".
import { createVisitorPass, type VisitorPass, type VisitorPassOptions } from "../../src/index.js";
import { formatDate } from "./dates.js";
import { REFERENCE_REQUEST } from "./scopes.js";
import type { DemoState } from "./state.js";

export interface DemoPassesOptions extends Pick<VisitorPassOptions, "database" | "env" | "now"> {
  /** Where fresh links are "mailed": the demo's outbox (give the same state to the app). */
  state: DemoState;
  /** The origin fresh links are built on, e.g. `http://localhost:3000`: never a request's Host. */
  publicOrigin: string;
}

/**
 * The demo's pass service: an expired or used-up reference link offers a fresh one, which
 * `sendLink` puts in the outbox, addressed to the email the pass has on file.
 */
export function createDemoPasses(options: DemoPassesOptions): VisitorPass {
  const { state, publicOrigin, ...rest } = options;
  return createVisitorPass({
    ...rest,
    sendLink: ({ visitor, url }) => {
      state.send({
        to: `${visitor.fullName} <${visitor.email}>`,
        subject: "Your new link",
        body: [
          `Hello ${visitor.firstName},`,
          "",
          "You asked for a new link, as your last one no longer worked.",
          visitor.expiresAt ? `This one works until ${formatDate(visitor.expiresAt)}:` : "",
        ].join("\n"),
        link: url,
        sentAt: new Date(),
      });
    },
    freshLinks: { scopes: [REFERENCE_REQUEST], baseUrl: publicOrigin },
  });
}
