import type { ConfirmPageContext } from "../core/config.js";
import { html } from "./html.js";
import { page } from "./layout.js";

/** The built-in "Continue as …" page of passes that need a click before they admit. */
export function defaultConfirmPage({ visitor, action }: ConfirmPageContext): string {
  const who = visitor.fullName || visitor.email;
  return page(
    "Continue",
    html`<h1>Continue as ${who}?</h1>
<p class="muted">This link was sent to ${visitor.email}. Continue to open it on this device.</p>
<form method="post" action="${action}"><button type="submit">Continue as ${who}</button></form>`,
  );
}
