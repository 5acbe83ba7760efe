import type { Visitor } from "../../../src/index.js";
import { type Html, html } from "../html.js";
import { errorSummary, type FieldErrors, field } from "./forms.js";
import { when } from "./layout.js";

/** Who asked the visitor for a reference, and what they wrote. */
export interface ReferenceRequest {
  visitor: Visitor;
  requesterName: string;
  message: string;
}

export const referenceLabels = { text: "Your reference" };

function steps(current: 1 | 2 | 3): Html {
  const names = ["Write", "Check", "Done"];
  return html`<ol class="steps" aria-label="Progress">
    ${names.map(
      (name, index) =>
        html`<li${index + 1 === current ? html` aria-current="step"` : null}>
          <span class="visually-hidden">Step ${index + 1} of 3:</span> ${name}
        </li>`,
    )}
  </ol>`;
}

/** Step 1: who asked and why, and the reference form. */
export function referenceForm(request: ReferenceRequest, text: string, errors: FieldErrors): Html {
  const { visitor, requesterName, message } = request;
  return html`${steps(1)}
    <h1>A reference for ${requesterName}</h1>
    <p class="lead">
      Hello ${visitor.firstName || visitor.email}. ${requesterName} asked you for a reference on
      ${when(visitor.createdAt)}, and wrote:
    </p>
    <blockquote class="message">${message}</blockquote>
    ${errorSummary(errors, referenceLabels)}
    <form method="post" action="/reference" novalidate>
      ${field({
        name: "text",
        label: referenceLabels.text,
        value: text,
        errors,
        rows: 8,
        hint: `${requesterName} will see it with your name and email.`,
        maxLength: 5000,
      })}
      <div class="actions">
        <button type="submit" class="button">Continue</button>
      </div>
    </form>`;
}

/** Step 2: the reference as it will be sent, to send or change. */
export function referenceReview(request: ReferenceRequest, text: string): Html {
  const { visitor, requesterName } = request;
  return html`${steps(2)}
    <h1>Check your reference</h1>
    <p class="lead">This is what ${requesterName} will see, from ${visitor.fullName || visitor.email}:</p>
    <blockquote class="reference-preview">${text}</blockquote>
    <form method="post" action="/reference/submit">
      <input type="hidden" name="text" value="${text}">
      <div class="actions">
        <button type="submit" class="button">Send the reference</button>
        <button type="submit" class="button button-secondary" formaction="/reference" name="action" value="edit">
          Change it
        </button>
      </div>
    </form>`;
}

/** Step 3: sent; the visit is over. */
export function referenceThanks(firstName: string, requesterName: string): Html {
  return html`${steps(3)}
    <h1>Thank you${firstName ? html`, ${firstName}` : null}</h1>
    <p class="lead">Your reference is with ${requesterName}.</p>
    <p>
      Your visit has ended: this browser can no longer open the reference pages, and the link in
      your email no longer works. You can close this window.
    </p>`;
}
