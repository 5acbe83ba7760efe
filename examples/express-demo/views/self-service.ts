import { Html, html } from "../html.js";

/**
 * Styles of the page below: the card of the library's own self-service pages, so that the form
 * and this page look alike. The library serves its pages with a Content-Security-Policy that
 * allows inline styles only, so the page carries them rather than linking /style.css.
 */
const CARD_STYLES = `
:root { color-scheme: light dark; --fg: #1d2430; --muted: #5b6473; --bg: #f6f7f9; --card: #fff;
  --line: #d9dde3; --accent: #2f5fd0; font-family: system-ui, -apple-system, "Segoe UI", Roboto,
  sans-serif; line-height: 1.5; }
@media (prefers-color-scheme: dark) { :root { --fg: #e7e9ee; --muted: #a3aab6; --bg: #14171c;
  --card: #1d2128; --line: #343a44; --accent: #7ea2ff; } }
body { margin: 0; background: var(--bg); color: var(--fg); }
main { max-width: 36rem; margin: 3rem auto; padding: 0 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 1.75rem; }
h1 { font-size: 1.5rem; margin: 0 0 .75rem; }
p { margin: .5rem 0 1rem; }
a { color: var(--accent); }
.outbox { padding: .75rem 1rem; border-left: 4px solid var(--accent); background: var(--bg); }
.muted { color: var(--muted); }
`;

/**
 * After a valid self-service form, in place of the library's "Check your email": the same words,
 * and where this demo's emails go.
 */
export function selfServiceSent(tokenExpirySeconds: number): string {
  const minutes = Math.max(1, Math.round(tokenExpirySeconds / 60));
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Check your email · visitor-pass demo</title>
<style>${new Html(CARD_STYLES)}</style>
</head>
<body><main><div class="card">
<h1>Check your email</h1>
<p>
  We have sent you a link. Open it in this browser to continue; it works for
  ${minutes} minute${minutes === 1 ? "" : "s"}.
</p>
<p class="outbox">This demo sends no email: yours is in the <a href="/outbox">outbox</a>.</p>
<p class="muted"><a href="/">Back to the demo</a></p>
</div></main></body>
</html>`.toString();
}
