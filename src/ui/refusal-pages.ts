import { html } from "./html.js";
import { page } from "./layout.js";

/** Too many requests from this network (429): wait `retryAfter` seconds. */
export function throttledPage(retryAfter: number): string {
  const minutes = Math.ceil(retryAfter / 60);
  const wait =
    retryAfter <= 60
      ? `${retryAfter} second${retryAfter === 1 ? "" : "s"}`
      : `${minutes} minute${minutes === 1 ? "" : "s"}`;
  return page(
    "Please wait",
    html`<h1>Please wait a moment</h1>
<p>Too many requests came from your network. Try again in ${wait}.</p>`,
  );
}

/** A form submission too large to read (413). */
export function tooLargePage(): string {
  return page(
    "Too large",
    html`<h1>Too large</h1><p>This form submission is larger than the form allows.</p>`,
  );
}
