import type { FreshLinkPageContext } from "../core/config.js";
import { html } from "./html.js";
import { page } from "./layout.js";

/**
 * The built-in fresh-link page: the offer a link that no longer works lands on, and the answer
 * once a new one was asked for. It names nobody and no address: it says the same for every token.
 */
export function defaultFreshLinkPage({ action, sent }: FreshLinkPageContext): string {
  if (sent) {
    return page(
      "Check your inbox",
      html`<h1>Check your inbox</h1>
<p>If this link can be renewed, a new one is on its way to the address it was sent to.</p>
<p class="muted">Nothing arrived? Ask whoever sent you the first link.</p>`,
    );
  }
  return page(
    "This link no longer works",
    html`<h1>This link no longer works</h1>
<p>It has expired or has been used as often as it may be. You can ask for a new one: it will be
sent to the address the first one was sent to.</p>
<form method="post" action="${action}"><button type="submit">Send me a new link</button></form>`,
  );
}
