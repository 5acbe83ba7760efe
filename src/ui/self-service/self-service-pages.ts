import type { Visitor } from "../../core/visitor.js";
import type { SelfServiceFields } from "../../features/self-service/self-service-schema.js";
import { html, type SafeHtml } from "../html.js";
import { page } from "../layout.js";
import { throttledPage, tooLargePage } from "../refusal-pages.js";

/** An extra field of the form (the `fields` option), as the form renders it. */
export interface SelfServiceFormField {
  name: string;
  label: string;
  type: "text" | "email" | "tel" | "url" | "number" | "textarea";
  autocomplete: string | null;
  hint: string | null;
  required: boolean;
  maxLength: number;
}

export interface SelfServiceFormContext {
  /** The pending pass the form completes. */
  visitor: Visitor;
  /**
   * What the visitor typed (or the `initial` values), to show: the built-in fields and each
   * extra field by name.
   */
  values: SelfServiceFields & Record<string, string>;
  /** Messages per field (`firstName`, `lastName`, `email`, extra ones); empty on first display. */
  errors: Record<string, string[]>;
  /** The app's extra fields (the `fields` option), after the built-in ones; empty without. */
  fields: readonly SelfServiceFormField[];
}

/** The self-service pages; an app replaces any of them with its own rendering. */
export interface SelfServicePages {
  form(context: SelfServiceFormContext): string | SafeHtml;
  /** After a valid submission: the link is on its way by email. */
  sent(): string | SafeHtml;
  /** No such request (404). */
  notFound(): string | SafeHtml;
  /** The request was already completed (409). */
  completed(): string | SafeHtml;
  /** The request is too old to complete (410). */
  expired(): string | SafeHtml;
  /** A submission from another site (403). */
  crossSite(): string | SafeHtml;
  /** Passes cannot be handed out right now (503). */
  unavailable(): string | SafeHtml;
  /** Too many submissions from the visitor's network (429): try again in `retryAfter` seconds. */
  throttled(retryAfter: number): string | SafeHtml;
  /** A submission larger than the form allows (413). */
  tooLarge(): string | SafeHtml;
}

function field(
  name: keyof SelfServiceFields,
  label: string,
  type: "text" | "email",
  autocomplete: string,
  context: SelfServiceFormContext,
): SafeHtml {
  const errors = context.errors[name] ?? [];
  const errorId = `${name}-error`;
  return html`<label for="${name}">${label}</label>
<input id="${name}" name="${name}" type="${type}" autocomplete="${autocomplete}" required maxlength="${type === "email" ? 254 : 150}"
  value="${context.values[name]}"${errors.length ? html` aria-invalid="true" aria-describedby="${errorId}"` : ""}>
${errors.length ? html`<p class="error" id="${errorId}">${errors.join(" ")}</p>` : ""}`;
}

function extraField(field: SelfServiceFormField, context: SelfServiceFormContext): SafeHtml {
  const errors = context.errors[field.name] ?? [];
  const id = `field-${field.name}`;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const described = [field.hint ? hintId : "", errors.length ? errorId : ""].filter(Boolean);
  const attributes = html` id="${id}" name="${field.name}"${field.autocomplete ? html` autocomplete="${field.autocomplete}"` : ""}${field.required ? html` required` : ""} maxlength="${field.maxLength}"${errors.length ? html` aria-invalid="true"` : ""}${described.length ? html` aria-describedby="${described.join(" ")}"` : ""}`;
  const value = context.values[field.name] ?? "";
  return html`<label for="${id}">${field.label}</label>
${field.hint ? html`<p class="muted" id="${hintId}">${field.hint}</p>` : ""}
${field.type === "textarea" ? html`<textarea${attributes}>${value}</textarea>` : html`<input${attributes} type="${field.type}" value="${value}">`}
${errors.length ? html`<p class="error" id="${errorId}">${errors.join(" ")}</p>` : ""}`;
}

export const defaultPages: SelfServicePages = {
  form: (context) =>
    page(
      "Request access",
      html`<h1>Request access</h1>
<p class="muted">Tell us who you are. We will email you a link that lets you in for this visit.</p>
${Object.keys(context.errors).length ? html`<p class="error" role="alert">Please correct the fields marked below.</p>` : ""}
<form method="post" novalidate>
${field("firstName", "First name", "text", "given-name", context)}
${field("lastName", "Last name", "text", "family-name", context)}
${field("email", "Email address", "email", "email", context)}
${context.fields.map((extra) => extraField(extra, context))}
<button type="submit">Email me a link</button>
</form>`,
    ),
  sent: () =>
    page(
      "Check your email",
      html`<h1>Check your email</h1>
<p>We have sent you a link. Open it on this device to continue; it works for a limited time.</p>
<p class="muted">Nothing arrived? Look in your spam folder, or start again from the page you wanted.</p>`,
    ),
  notFound: () =>
    page("Not found", html`<h1>Not found</h1><p>This access request does not exist.</p>`),
  completed: () =>
    page(
      "Already done",
      html`<h1>Already done</h1><p>This access request has already been completed. Use the link we emailed you.</p>`,
    ),
  expired: () =>
    page(
      "Request expired",
      html`<h1>This request has expired</h1><p>Go back to the page you wanted and start again.</p>`,
    ),
  crossSite: () =>
    page("Refused", html`<h1>Refused</h1><p>This form can only be sent from this site.</p>`),
  unavailable: () =>
    page(
      "Please try again",
      html`<h1>Please try again shortly</h1><p>We cannot hand out access right now.</p>`,
    ),
  throttled: throttledPage,
  tooLarge: tooLargePage,
};
