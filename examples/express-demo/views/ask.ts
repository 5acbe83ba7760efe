import { type Html, html } from "../html.js";
import { errorSummary, type FieldErrors, field } from "./forms.js";

export interface AskValues {
  name: string;
  email: string;
  message: string;
}

export const askLabels = { name: "Their name", email: "Their email", message: "Your message" };

/** Fred's form asking someone for a reference. */
export function askForm(values: AskValues, errors: FieldErrors): Html {
  return html`<h1>Ask for a reference</h1>
    <p class="lead">
      We will email them a link to a short form. The link works for seven days, without an
      account.
    </p>
    ${errorSummary(errors, askLabels)}
    <form method="post" action="/ask" novalidate>
      ${field({ name: "name", label: askLabels.name, value: values.name, errors, autocomplete: "off", maxLength: 150 })}
      ${field({ name: "email", label: askLabels.email, value: values.email, errors, type: "email", autocomplete: "off" })}
      ${field({
        name: "message",
        label: askLabels.message,
        value: values.message,
        errors,
        rows: 5,
        hint: "Say why you are asking; they will see it with the link.",
        maxLength: 2000,
      })}
      <div class="actions">
        <button type="submit" class="button">Send the request</button>
        <a href="/">Cancel</a>
      </div>
    </form>`;
}
