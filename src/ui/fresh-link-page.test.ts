import { describe, expect, it } from "vitest";
import { defaultFreshLinkPage } from "./fresh-link-page.js";

describe("the built-in fresh-link page", () => {
  it("offers a form posting to the action, escaped", () => {
    const page = defaultFreshLinkPage({ action: '/r?a="><script>&vuid-fresh=1', sent: false });
    expect(page).toContain(
      '<form method="post" action="/r?a=&quot;&gt;&lt;script&gt;&amp;vuid-fresh=1">',
    );
    expect(page).not.toContain("<script>");
    expect(page).toContain("Send me a new link");
  });

  it("answers a request without a form", () => {
    const page = defaultFreshLinkPage({ action: "/r", sent: true });
    expect(page).toContain("Check your inbox");
    expect(page).not.toContain("<form");
  });
});
