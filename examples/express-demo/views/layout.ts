import type { Visitor } from "../../../src/index.js";
import { formatDate } from "../dates.js";
import { type Html, html } from "../html.js";
import { REFERENCE_REQUEST } from "../scopes.js";
import type { DemoUser } from "../state.js";

/** Who is looking at the page: Fred, a visitor, both (Fred opened a link himself) or neither. */
export interface Who {
  user: DemoUser | null;
  visitor: Visitor | null;
}

export interface PageOptions {
  title: string;
  who: Who;
  body: Html;
  /** A one-off message shown above the page, e.g. after a redirect. */
  notice?: string | null;
}

/** A date for people, in a `<time>` element carrying the exact instant. */
export function when(date: Date | null): Html {
  if (!date) return html`never`;
  return html`<time datetime="${date.toISOString()}">${formatDate(date)}</time>`;
}

function identity({ user, visitor }: Who): Html {
  const badges: Html[] = [];
  if (user) badges.push(html`<span class="badge badge-user">Signed in as ${user.name}</span>`);
  if (visitor) {
    badges.push(
      html`<span class="badge badge-visitor"
        >Visiting as ${visitor.fullName || visitor.email} · scope ${visitor.scope}</span
      >`,
    );
  }
  if (badges.length === 0) {
    badges.push(html`<span class="badge">Anonymous: not signed in, not visiting</span>`);
  }
  const action = user
    ? html`<form method="post" action="/sign-out" class="inline">
        <button type="submit" class="link-button">Sign out</button>
      </form>`
    : html`<form method="post" action="/sign-in" class="inline">
        <button type="submit" class="link-button">Sign in as Fred</button>
      </form>`;
  return html`<div class="who" aria-label="Who you are">${badges} ${action}</div>`;
}

function navigation({ user, visitor }: Who): Html {
  return html`<nav aria-label="Main">
    <ul>
      <li><a href="/">Home</a></li>
      ${user && html`<li><a href="/ask">Ask for a reference</a></li>`}
      ${visitor?.scope === REFERENCE_REQUEST && html`<li><a href="/reference">Your reference</a></li>`}
      <li><a href="/early-access">Early access</a></li>
      <li><a href="/outbox">Outbox</a></li>
    </ul>
  </nav>`;
}

/** The whole HTML document around a page's body. */
export function layout({ title, who, body, notice }: PageOptions): Html {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${title} · visitor-pass demo</title>
    <link rel="icon" href="/favicon.svg" type="image/svg+xml">
    <link rel="stylesheet" href="/style.css">
  </head>
  <body>
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="site-header">
      <div class="container header-row">
        <a class="brand" href="/">visitor-pass <span>demo</span></a>
        ${navigation(who)}
      </div>
      <div class="container">${identity(who)}</div>
    </header>
    <main id="main" class="container" tabindex="-1">
      ${notice && html`<p class="notice" role="status">${notice}</p>`}
      ${body}
    </main>
    <footer class="container site-footer">
      <p>
        A demo of <code>visitor-pass</code> on Express. Passes are kept in SQLite; the outbox,
        references and sessions only in memory.
      </p>
    </footer>
  </body>
</html>`;
}
