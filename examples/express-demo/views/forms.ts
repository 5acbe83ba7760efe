import { type Html, html } from "../html.js";

/** Messages per form field; a field without an entry is fine. */
export type FieldErrors = Partial<Record<string, string>>;

export interface FieldOptions {
  name: string;
  label: string;
  value: string;
  errors: FieldErrors;
  hint?: string;
  type?: "text" | "email";
  autocomplete?: string;
  /** A `<textarea>` with this many rows instead of an `<input>`. */
  rows?: number;
  maxLength?: number;
}

export const fieldId = (name: string) => `field-${name}`;

/** A labelled input with its hint and error, the error tied to the input for screen readers. */
export function field(options: FieldOptions): Html {
  const { name, label, value, errors, hint, rows, maxLength } = options;
  const id = fieldId(name);
  const error = errors[name];
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ");
  const attributes = html`id="${id}" name="${name}" ${maxLength && html`maxlength="${maxLength}"`}
    ${describedBy && html`aria-describedby="${describedBy}"`}
    ${error && html`aria-invalid="true"`}`;
  const control =
    rows !== undefined
      ? html`<textarea ${attributes} rows="${rows}">${value}</textarea>`
      : html`<input ${attributes} type="${options.type ?? "text"}" value="${value}"
          ${options.autocomplete && html`autocomplete="${options.autocomplete}"`}>`;
  return html`<div class="field${error ? " has-error" : ""}">
    <label for="${id}">${label}</label>
    ${hint && html`<p class="hint" id="${id}-hint">${hint}</p>`}
    ${error && html`<p class="field-error" id="${id}-error"><span class="visually-hidden">Error:</span> ${error}</p>`}
    ${control}
  </div>`;
}

/** The list of problems at the top of a form, each linking to its field. */
export function errorSummary(errors: FieldErrors, labels: Record<string, string>): Html | null {
  const entries = Object.entries(errors).filter(([, message]) => message);
  if (entries.length === 0) return null;
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title">
    <h2 id="error-summary-title">Please check the form</h2>
    <ul>
      ${entries.map(
        ([name, message]) =>
          html`<li><a href="#${fieldId(name)}">${labels[name] ?? name}: ${message}</a></li>`,
      )}
    </ul>
  </div>`;
}
