import type { Visitor } from "../../../src/index.js";
import { type Html, html } from "../html.js";
import { EARLY_ACCESS, REFERENCE_REQUEST } from "../scopes.js";
import type { ReceivedReference } from "../state.js";
import { type Who, when } from "./layout.js";

export type RequestStatus = "received" | "pending" | "expired" | "closed";

/** One of Fred's reference requests, as his home page shows it. */
export interface RequestRow {
  visitor: Visitor;
  status: RequestStatus;
  /** Guarded pages the visitor opened, from `passes.logs(uuid)`. */
  visits: number;
}

const statusLabels: Record<RequestStatus, string> = {
  received: "Received",
  pending: "Pending",
  expired: "Link expired",
  closed: "Link closed",
};

function story(): Html {
  return html`<ol class="story">
    <li><strong>Fred</strong>, who has an account, asks <strong>Ginger</strong> for a reference.</li>
    <li>The app creates a visitor pass for Ginger and emails her a link carrying its token.</li>
    <li>
      Ginger follows the link. She has no account, but the app now knows who she is and why she
      is here, and lets her into the reference pages, and nowhere else.
    </li>
    <li>When she has sent her reference, her visit ends.</li>
  </ol>`;
}

function visitorWelcome(visitor: Visitor): Html | null {
  const name = visitor.firstName || visitor.email;
  if (visitor.scope === REFERENCE_REQUEST) {
    return html`<section class="panel panel-visitor" aria-labelledby="visitor-title">
      <h2 id="visitor-title">Welcome, ${name}</h2>
      <p>You were invited to leave a reference. It takes a minute.</p>
      <p><a class="button" href="/reference">Write your reference</a></p>
    </section>`;
  }
  if (visitor.scope === EARLY_ACCESS) {
    return html`<section class="panel panel-visitor" aria-labelledby="visitor-title">
      <h2 id="visitor-title">Welcome, ${name}</h2>
      <p>You have early access to the dance floor tonight.</p>
      <p><a class="button" href="/early-access">Go to the dance floor</a></p>
    </section>`;
  }
  return null;
}

/** The self-service corner: a page anyone may ask a pass for, themselves. */
function earlyAccessInvitation(who: Who): Html | null {
  if (who.visitor?.scope === EARLY_ACCESS) return null;
  return html`<section class="panel panel-aside" aria-labelledby="early-access-title">
    <h2 id="early-access-title">Dance-floor early access</h2>
    <p>
      Nobody has to invite you here: ask for a pass yourself. The early-access page sends you to
      a short form for your name and email; the link it emails you (here: in the
      <a href="/outbox">outbox</a>) lets you in for this browser session.
      ${who.user && html`As a member, ${who.user.name} walks straight in.`}
    </p>
    <p><a class="button button-secondary" href="/early-access">Ask for early access</a></p>
  </section>`;
}

/** Home for someone not signed in (possibly a visitor). */
export function anonymousHome(who: Who): Html {
  return html`<h1>Visitor passes: the reference story</h1>
    ${who.visitor && visitorWelcome(who.visitor)}
    <p class="lead">
      A <em>visitor</em> is someone the app knows of but who has no account: it knows their name
      and email and why they are here, for the length of one browser session.
    </p>
    ${story()}
    <form method="post" action="/sign-in">
      <button type="submit" class="button">Sign in as Fred</button>
    </form>
    <p class="hint">
      No password: this demo has a single user. Sign in, ask for a reference, then open the
      link from the <a href="/outbox">outbox</a>, ideally in a private window, to be Ginger.
    </p>
    ${earlyAccessInvitation(who)}`;
}

/** When the link stops working; once the pass is closed, that no longer matters. */
function linkExpiry(visitor: Visitor, status: RequestStatus): Html {
  if (status === "pending" || status === "expired") return when(visitor.expiresAt);
  return html`<span class="muted">link closed</span>`;
}

function requestsTable(rows: RequestRow[]): Html {
  if (rows.length === 0) {
    return html`<p class="empty">You have not asked anyone yet.</p>`;
  }
  return html`<div class="table-wrap">
    <table>
      <caption class="visually-hidden">Your reference requests, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Who</th>
          <th scope="col">Status</th>
          <th scope="col">Asked on</th>
          <th scope="col">Link expires</th>
          <th scope="col" class="number">Visits</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          ({ visitor, status, visits }) => html`<tr>
            <th scope="row">
              ${visitor.fullName || visitor.email}
              <span class="muted">${visitor.email}</span>
            </th>
            <td><span class="status status-${status}">${statusLabels[status]}</span></td>
            <td>${when(visitor.createdAt)}</td>
            <td>${linkExpiry(visitor, status)}</td>
            <td class="number">${visits}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function referenceList(references: ReceivedReference[]): Html {
  if (references.length === 0) {
    return html`<p class="empty">None yet.</p>`;
  }
  return html`${references.map(
    (reference) => html`<figure class="reference">
      <blockquote>${reference.text}</blockquote>
      <figcaption>
        ${reference.fromName} <span class="muted">&lt;${reference.fromEmail}&gt;</span>,
        ${when(reference.receivedAt)}
      </figcaption>
    </figure>`,
  )}`;
}

/** Fred's home: his requests and the references he received. */
export function fredHome(who: Who, rows: RequestRow[], references: ReceivedReference[]): Html {
  return html`<h1>Hello, ${who.user?.name}</h1>
    ${who.visitor && visitorWelcome(who.visitor)}
    <p class="lead">Ask someone who knows you for a reference; they need no account.</p>
    <p><a class="button" href="/ask">Ask for a reference</a></p>

    <h2>References you received</h2>
    ${referenceList(references)}

    <h2>Your requests</h2>
    ${requestsTable(rows)}
    <p class="hint">
      Visits counts the guarded pages the visitor opened (each one is logged by
      <code>userIsVisitor</code>).
    </p>
    ${earlyAccessInvitation(who)}`;
}
