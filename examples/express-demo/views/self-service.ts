import type { SelfServiceFormContext } from "../../../src/ui/self-service/self-service-pages.js";
import { Html, html } from "../html.js";

/**
 * Styles of the demo's self-service pages: the library serves them with a Content-Security-Policy
 * that allows inline styles only, so they carry their styles rather than linking /style.css. Both
 * pages share them, so the form and the page after it are the same width.
 */
const CARD_STYLES = `
:root { color-scheme: light dark; --fg: #1d2430; --muted: #5b6473; --bg: #f6f7f9; --card: #fff;
  --line: #d9dde3; --accent: #2f5fd0; --danger: #b3261e; font-family: system-ui, -apple-system,
  "Segoe UI", Roboto, sans-serif; line-height: 1.5; }
@media (prefers-color-scheme: dark) { :root { --fg: #e7e9ee; --muted: #a3aab6; --bg: #14171c;
  --card: #1d2128; --line: #343a44; --accent: #7ea2ff; --danger: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
.demo-head { border-bottom: 1px solid var(--line); background: var(--card); }
.demo-head div { max-width: 36rem; margin: 0 auto; padding: .75rem 1rem; display: flex;
  justify-content: space-between; gap: 1rem; flex-wrap: wrap; }
.brand { font-weight: 700; text-decoration: none; color: var(--fg); }
main { max-width: 36rem; margin: 3rem auto; padding: 0 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 1.75rem; }
h1 { font-size: 1.5rem; margin: 0 0 .75rem; }
p { margin: .5rem 0 1rem; }
a { color: var(--accent); }
.muted { color: var(--muted); }
.outbox { padding: .75rem 1rem; border-left: 4px solid var(--accent); background: var(--bg); }
label { display: block; font-weight: 600; margin-top: 1rem; }
input[type=text], input[type=email] { width: 100%; padding: .6rem .7rem; margin-top: .3rem;
  border: 1px solid var(--line); border-radius: 8px; font: inherit; background: var(--card); color: var(--fg); }
input[aria-invalid=true] { border-color: var(--danger); }
.error { color: var(--danger); font-size: .925rem; margin: .3rem 0 0; }
button { margin-top: 1.5rem; padding: .65rem 1.2rem; border: 0; border-radius: 8px; font: inherit;
  font-weight: 600; background: var(--accent); color: #fff; cursor: pointer; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
`;

/** The demo's self-service page around `body`: its header, and a way back to the demo. */
function selfServicePage(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · visitor-pass demo</title>
<style>${new Html(CARD_STYLES)}</style>
</head>
<body>
<header class="demo-head"><div><a class="brand" href="/">visitor-pass demo</a><a href="/">← Back to the demo</a></div></header>
<main><div class="card">${body}</div></main>
</body>
</html>`.toString();
}

type Field = keyof SelfServiceFormContext["values"];

function field(
  name: Field,
  label: string,
  type: "text" | "email",
  autocomplete: string,
  context: SelfServiceFormContext,
): Html {
  const errors = context.errors[name] ?? [];
  const errorId = `${name}-error`;
  return html`<label for="${name}">${label}</label>
<input id="${name}" name="${name}" type="${type}" autocomplete="${autocomplete}" required maxlength="${type === "email" ? 254 : 150}"
  value="${context.values[name]}"${errors.length ? html` aria-invalid="true" aria-describedby="${errorId}"` : null}>
${errors.length ? html`<p class="error" id="${errorId}">${errors.join(" ")}</p>` : null}`;
}

/** The self-service form, in the demo's frame: the library's fields and messages. */
export function selfServiceForm(context: SelfServiceFormContext): string {
  return selfServicePage(
    "Request access",
    html`<h1>Request access</h1>
<p class="muted">Tell us who you are. We will email you a link that lets you in for this visit.</p>
${Object.keys(context.errors).length ? html`<p class="error" role="alert">Please correct the fields marked below.</p>` : null}
<form method="post" novalidate>
${field("firstName", "First name", "text", "given-name", context)}
${field("lastName", "Last name", "text", "family-name", context)}
${field("email", "Email address", "email", "email", context)}
<button type="submit">Email me a link</button>
</form>`,
  );
}

/**
 * After a valid self-service form, in place of the library's "Check your email": the same words,
 * and where this demo's emails go.
 */
export function selfServiceSent(tokenExpirySeconds: number): string {
  const minutes = Math.max(1, Math.round(tokenExpirySeconds / 60));
  return selfServicePage(
    "Check your email",
    html`<h1>Check your email</h1>
<p>
  We have sent you a link. Open it in this browser to continue; it works for
  ${minutes} minute${minutes === 1 ? "" : "s"}.
</p>
<p class="outbox">This demo sends no email: yours is in the <a href="/outbox">outbox</a>.</p>`,
  );
}
