import type { z } from "zod";
import { VisitorPassConfigError } from "../../core/errors.js";

/** What a JSON value stored in a pass's `context` may be. */
export type SelfServiceFieldValue =
  | string
  | number
  | boolean
  | null
  | SelfServiceFieldValue[]
  | { [key: string]: SelfServiceFieldValue };

/**
 * One extra field of the self-service form: rendered after the built-in ones with its label,
 * validated on the server with its zod `schema` (given the text typed, at most `maxLength`
 * characters), and stored in the claimed pass's `context` under its name.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 *
 * const company: SelfServiceField = {
 *   label: "Company",
 *   schema: z.string().trim().min(1, "Enter your company."),
 *   autocomplete: "organization",
 * };
 * ```
 */
export interface SelfServiceField {
  /** The label shown beside the input (escaped). */
  label: string;
  /**
   * Validates the submitted text (an empty string when nothing was typed); its output, which
   * must be JSON (a string, number, boolean, array or object), is what the pass's `context` gets.
   * Its issues' messages are shown under the field.
   */
  schema: z.ZodType<SelfServiceFieldValue>;
  /** The input: a one-line `type` or a `textarea`. @default "text" */
  type?: "text" | "email" | "tel" | "url" | "number" | "textarea";
  /** The `autocomplete` attribute, e.g. `"organization"`. */
  autocomplete?: string;
  /** A hint shown under the label (escaped). */
  hint?: string;
  /** Marks the input `required` for the browser (the schema is what decides). @default false */
  required?: boolean;
  /** The most characters accepted (1–2000); longer input is refused. @default 200 */
  maxLength?: number;
}

/** A field after its declaration was checked. */
export interface ResolvedField extends Required<Omit<SelfServiceField, "autocomplete" | "hint">> {
  name: string;
  autocomplete: string | null;
  hint: string | null;
}

/** At most this many extra fields: the adapters' form parsers read a bounded number of fields. */
export const MAX_EXTRA_FIELDS = 16;
/** The largest `context` the extra fields may add, as JSON, in bytes. */
export const MAX_EXTRA_CONTEXT_BYTES = 8 * 1024;
const MAX_FIELD_LENGTH = 2000;
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,49}$/;
const TYPES = new Set(["text", "email", "tel", "url", "number", "textarea"]);
/** Built-in fields, and `context` keys the package itself writes. */
const RESERVED = new Set([
  "firstName",
  "lastName",
  "email",
  "selfService",
  "redirectTo",
  "claimedAt",
]);

/** Checks the `fields` option once, when the pages are built. */
export function resolveFields(fields: unknown): ResolvedField[] {
  if (fields === undefined) return [];
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
    throw new VisitorPassConfigError("fields", fields, "must be an object of { label, schema }");
  }
  const entries = Object.entries(fields);
  if (entries.length > MAX_EXTRA_FIELDS) {
    throw new VisitorPassConfigError(
      "fields",
      `${entries.length} fields`,
      `at most ${MAX_EXTRA_FIELDS} extra fields`,
    );
  }
  return entries.map(([name, declared]) => resolveField(name, declared));
}

function resolveField(name: string, declared: unknown): ResolvedField {
  const option = `fields.${name}`;
  if (!NAME.test(name)) {
    throw new VisitorPassConfigError(
      option,
      name,
      "a field name is a letter then up to 49 letters, digits or _",
    );
  }
  if (RESERVED.has(name)) {
    throw new VisitorPassConfigError(option, name, "this name is the form's or the package's own");
  }
  const field = (declared ?? {}) as Partial<SelfServiceField>;
  if (typeof field.label !== "string" || field.label.trim() === "") {
    throw new VisitorPassConfigError(`${option}.label`, field.label, "must be a non-empty string");
  }
  if (typeof (field.schema as { safeParse?: unknown } | undefined)?.safeParse !== "function") {
    throw new VisitorPassConfigError(`${option}.schema`, field.schema, "must be a zod schema");
  }
  const type = field.type ?? "text";
  if (!TYPES.has(type)) {
    throw new VisitorPassConfigError(
      `${option}.type`,
      type,
      `must be one of ${[...TYPES].join(", ")}`,
    );
  }
  const maxLength = field.maxLength ?? 200;
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > MAX_FIELD_LENGTH) {
    throw new VisitorPassConfigError(
      `${option}.maxLength`,
      maxLength,
      `must be a whole number from 1 to ${MAX_FIELD_LENGTH}`,
    );
  }
  for (const key of ["autocomplete", "hint"] as const) {
    if (field[key] !== undefined && typeof field[key] !== "string") {
      throw new VisitorPassConfigError(`${option}.${key}`, field[key], "must be a string");
    }
  }
  return {
    name,
    label: field.label,
    schema: field.schema as SelfServiceField["schema"],
    type,
    autocomplete: field.autocomplete ?? null,
    hint: field.hint ?? null,
    required: field.required === true,
    maxLength,
  };
}

/** The texts of the messages about extra fields that the package itself gives. */
export interface ExtraFieldMessages {
  /** Longer than the field's `maxLength`: `{max}` is replaced by it. */
  fieldTooLong: string;
  /** Tabs, line breaks (outside a textarea), NUL and other control characters, or broken text. */
  fieldInvalid: string;
  /** The extra fields together would make the pass's context too large. */
  fieldsTooLarge: string;
}

export const defaultExtraFieldMessages: ExtraFieldMessages = {
  fieldTooLong: "Use at most {max} characters.",
  fieldInvalid: "Remove the control characters.",
  fieldsTooLarge: "These answers are too long altogether.",
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: a textarea keeps tabs and line breaks
const CONTROL_IN_TEXTAREA = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** Half of a UTF-16 pair on its own: no database stores it as text. */
const LONE_SURROGATE = /\p{Cs}/u;

export type ParsedExtras =
  | { ok: true; context: Record<string, SelfServiceFieldValue> }
  | { ok: false; errors: Record<string, string[]> };

/** The submitted text of each extra field (for validating and re-rendering), bounded. */
export function extraValues(fields: ResolvedField[], body: unknown): Record<string, string> {
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const values: Record<string, string> = {};
  for (const field of fields) {
    const value = Object.hasOwn(record, field.name) ? record[field.name] : undefined;
    // One more than allowed, so that too long is told apart from just long enough.
    values[field.name] = typeof value === "string" ? value.slice(0, field.maxLength + 1) : "";
  }
  return values;
}

/** Validates the extra fields: each with its schema, then their size together. */
export function parseExtras(
  fields: ResolvedField[],
  values: Record<string, string>,
  messages: ExtraFieldMessages,
): ParsedExtras {
  const errors: Record<string, string[]> = {};
  const context: Record<string, SelfServiceFieldValue> = {};
  for (const field of fields) {
    const value = values[field.name] ?? "";
    const control = field.type === "textarea" ? CONTROL_IN_TEXTAREA : CONTROL;
    if (value.length > field.maxLength) {
      errors[field.name] = [messages.fieldTooLong.replace("{max}", String(field.maxLength))];
    } else if (control.test(value) || LONE_SURROGATE.test(value)) {
      errors[field.name] = [messages.fieldInvalid];
    } else {
      const result = field.schema.safeParse(value);
      if (!result.success) {
        errors[field.name] = result.error.issues.map((issue) => issue.message);
      } else if (!isJson(result.data)) {
        throw new TypeError(`The schema of self-service field "${field.name}" must output JSON`);
      } else {
        context[field.name] = result.data;
      }
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  if (Buffer.byteLength(JSON.stringify(context)) > MAX_EXTRA_CONTEXT_BYTES) {
    const last = fields.at(-1)?.name ?? "form";
    return { ok: false, errors: { [last]: [messages.fieldsTooLarge] } };
  }
  return { ok: true, context };
}

function isJson(value: unknown, depth = 0): value is SelfServiceFieldValue {
  if (depth > 8) return false;
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isJson(item, depth + 1));
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).every((item) => isJson(item, depth + 1));
}
