import { html, raw, type SafeHtml } from "./html.js";

/** The stylesheet of the package's own pages: plain, readable, no external resources. */
const STYLES = `
:root { color-scheme: light dark; --fg: #1d2430; --muted: #5b6473; --bg: #f6f7f9; --card: #fff;
  --line: #d9dde3; --accent: #2f5fd0; --danger: #b3261e; font-family: system-ui, -apple-system,
  "Segoe UI", Roboto, sans-serif; line-height: 1.5; }
@media (prefers-color-scheme: dark) { :root { --fg: #e7e9ee; --muted: #a3aab6; --bg: #14171c;
  --card: #1d2128; --line: #343a44; --accent: #7ea2ff; --danger: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
main { max-width: 36rem; margin: 3rem auto; padding: 0 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 1.75rem; }
h1 { font-size: 1.5rem; margin: 0 0 .75rem; }
p { margin: .5rem 0 1rem; }
.muted { color: var(--muted); }
label { display: block; font-weight: 600; margin-top: 1rem; }
input[type=text], input[type=email] { width: 100%; padding: .6rem .7rem; margin-top: .3rem;
  border: 1px solid var(--line); border-radius: 8px; font: inherit; background: var(--card); color: var(--fg); }
input[aria-invalid=true] { border-color: var(--danger); }
.error { color: var(--danger); font-size: .925rem; margin: .3rem 0 0; }
button { margin-top: 1.5rem; padding: .65rem 1.2rem; border: 0; border-radius: 8px; font: inherit;
  font-weight: 600; background: var(--accent); color: #fff; cursor: pointer; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
`;

export interface PageOptions {
  /** CSS added after the shared stylesheet (trusted: never user input). */
  styles?: string;
  /** A wide page whose `body` lays out its own cards, rather than one narrow card. */
  wide?: boolean;
}

/** A whole page around `body`. */
export function page(title: string, body: SafeHtml, options: PageOptions = {}): string {
  const content = options.wide ? body : html`<div class="card">${body}</div>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${raw(STYLES + (options.styles ?? ""))}</style>
</head>
<body><main${options.wide ? raw(' class="wide"') : ""}>${content}</main></body>
</html>`.toString();
}
