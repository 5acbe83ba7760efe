import escapeHtml from "escape-html";

/** HTML that is already safe: produced by `html` or explicitly trusted with `raw`. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Marks a string as trusted HTML; never pass it user input. */
export function raw(value: string): SafeHtml {
  return new SafeHtml(value);
}

/**
 * A template tag that escapes every interpolated value (arrays are joined, `null`, `undefined`
 * and `false` render nothing) unless it is `SafeHtml`.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? "");
  });
  return new SafeHtml(out);
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}
