import { z } from "zod";
import type { SelfServiceFields } from "../../core/ports.js";
import { CONTROL_CHARACTERS, fieldErrors } from "../../core/validation.js";
import { defaultExtraFieldMessages, type ExtraFieldMessages } from "./self-service-fields.js";

/** The texts of the self-service form's validation messages; each can be replaced. */
export interface SelfServiceMessages extends ExtraFieldMessages {
  firstNameRequired: string;
  lastNameRequired: string;
  nameTooLong: string;
  /** A name with a control character (a tab, a line break, NUL, an escape code…). */
  nameInvalid: string;
  emailInvalid: string;
  emailRefused: string;
}

export const defaultMessages: SelfServiceMessages = {
  firstNameRequired: "Enter your first name.",
  lastNameRequired: "Enter your last name.",
  nameTooLong: "Use at most 150 characters.",
  nameInvalid: "Remove the tabs, line breaks or other control characters.",
  emailInvalid: "Enter a valid email address, like name@example.org.",
  emailRefused: "Use your own email address: addresses at example.com cannot receive the link.",
  ...defaultExtraFieldMessages,
};

export type { SelfServiceFields } from "../../core/ports.js";

/** The refused domain `email` is at (the domain itself or a subdomain of it), or `null`. */
export function refusedDomainOf(email: string, refused: readonly string[]): string | null {
  const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
  return refused.find((r) => domain === r || domain.endsWith(`.${r}`)) ?? null;
}

/**
 * The form's schema. `emailRefused` is the app's own message, or `undefined` for the default,
 * which names the refused domain.
 */
export function selfServiceSchema(
  messages: SelfServiceMessages,
  refusedDomains: readonly string[] = ["example.com"],
  emailRefused?: string,
) {
  const name = (required: string) =>
    z
      .string(required)
      .trim()
      .min(1, required)
      .max(150, messages.nameTooLong)
      .refine((value) => !CONTROL_CHARACTERS.test(value), messages.nameInvalid);
  return z.object({
    firstName: name(messages.firstNameRequired),
    lastName: name(messages.lastNameRequired),
    email: z
      .string(messages.emailInvalid)
      .trim()
      .max(254, messages.emailInvalid)
      .refine((value) => !CONTROL_CHARACTERS.test(value), messages.emailInvalid)
      .pipe(z.email(messages.emailInvalid))
      .superRefine((email, context) => {
        const domain = refusedDomainOf(email, refusedDomains);
        if (domain === null) return;
        context.addIssue({
          code: "custom",
          message:
            emailRefused ??
            `Use your own email address: addresses at ${domain} cannot receive the link.`,
        });
      }),
  });
}

/** The submitted values as text (for re-rendering), whatever shape the body had. */
export function submittedValues(body: unknown): SelfServiceFields {
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const text = (value: unknown) => (typeof value === "string" ? value.slice(0, 1000) : "");
  return {
    firstName: text(record.firstName),
    lastName: text(record.lastName),
    email: text(record.email),
  };
}

export type ParsedSubmission =
  | { ok: true; fields: SelfServiceFields }
  | { ok: false; errors: Record<string, string[]> };

export function parseSubmission(
  schema: ReturnType<typeof selfServiceSchema>,
  values: SelfServiceFields,
): ParsedSubmission {
  const result = schema.safeParse(values);
  return result.success
    ? { ok: true, fields: result.data }
    : { ok: false, errors: fieldErrors(result.error) };
}
