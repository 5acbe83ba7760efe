import { type Html, html } from "../html.js";
import type { SentEmail } from "../state.js";
import { when } from "./layout.js";

/** The emails the app would have sent, with their links. */
export function outboxPage(emails: readonly SentEmail[]): Html {
  return html`<h1>Outbox</h1>
    <p class="lead">
      This demo sends no email. What it would have sent is kept here, newest first. Open a link
      in a private window (or another browser) to be the person it was sent to.
    </p>
    ${
      emails.length === 0
        ? html`<p class="empty">Nothing sent yet.</p>`
        : emails.map(
            (email) => html`<article class="email">
              <dl class="email-head">
                <dt>To</dt>
                <dd>${email.to}</dd>
                <dt>Subject</dt>
                <dd>${email.subject}</dd>
                <dt>Sent</dt>
                <dd>${when(email.sentAt)}</dd>
              </dl>
              <div class="email-body">${email.body}</div>
              ${
                email.link === null
                  ? ""
                  : html`<p class="email-link"><a href="${email.link}">${email.link}</a></p>`
              }
            </article>`,
          )
    }`;
}
