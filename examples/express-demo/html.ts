import escapeHtml from "escape-html";

/** A piece of HTML that is already safe: built by `html` from escaped values. */
export class Html {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  toString(): string {
    return this.#value;
  }
}

/** Anything `html` accepts in a `${…}`: other fragments, lists of them, or plain values. */
export type HtmlValue = Html | string | number | boolean | null | undefined | HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.toString();
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

/**
 * Tagged template for HTML: every interpolated value is escaped, except fragments that were
 * themselves built with `html` (and so already escaped). Lists are rendered item by item;
 * `null`, `undefined` and `false` render nothing, which keeps conditionals short.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? "";
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? "");
  });
  return new Html(out);
}
