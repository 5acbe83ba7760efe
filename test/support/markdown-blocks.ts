// The code blocks of the documentation that are files of the repository: a `ts` block right
// after a `<!-- <kind>: <path> -->` marker is that file, byte for byte (the tests that use this
// compare them), so that a snippet edited in one place only fails the suite.
import { readFileSync } from "node:fs";

export const ROOT = new URL("../../", import.meta.url);

/** The text of a file of the repository, by its path from the root. */
export function readRepo(path: string): string {
  return readFileSync(new URL(path, ROOT), "utf8");
}

export interface MarkedBlock {
  /** The file the block is, from the repository's root. */
  path: string;
  code: string;
  /** The `npm install visitor-pass …` block nearest before the marker ("" when none). */
  install: string;
}

/** The blocks of `markdown` marked `<!-- <kind>: <path> -->`, in order. */
export function markedBlocks(markdown: string, kind: string): MarkedBlock[] {
  const found: MarkedBlock[] = [];
  const marker = new RegExp(`^<!-- ${kind}: (\\S+) -->\\n\`\`\`ts\\n([\\s\\S]*?)^\`\`\`$`, "gm");
  for (const match of markdown.matchAll(marker)) {
    const before = markdown.slice(0, match.index);
    const installs = [...before.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
      .map((m) => m[1] ?? "")
      .filter((text) => /^npm install visitor-pass /m.test(text));
    found.push({ path: match[1] ?? "", code: match[2] ?? "", install: installs.at(-1) ?? "" });
  }
  return found;
}

/** Markers of `kind` not directly followed by a `ts` block (a typo would hide a block). */
export function strayMarkers(markdown: string, kind: string): string[] {
  const all = [...markdown.matchAll(new RegExp(`^<!-- ${kind}: (\\S+) -->$`, "gm"))];
  const marked = new Set(markedBlocks(markdown, kind).map((block) => block.path));
  return all.map((m) => m[1] ?? "").filter((path) => !marked.has(path));
}

/** The packages a module imports: `hono/html` is `hono`, `@fastify/session` itself. */
export function importedPackages(code: string): string[] {
  const names = new Set<string>();
  for (const [, specifier = ""] of code.matchAll(
    /^\s*(?:import|export)\b[^"']*?from\s+"([^"]+)"/gm,
  )) {
    if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
    const parts = specifier.split("/");
    names.add(specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? ""));
  }
  return [...names].sort();
}

/** The package names an install block installs (versions and flags dropped). */
export function installedPackages(install: string): Set<string> {
  return new Set(
    install
      .split(/\s+/)
      .filter((word) => word !== "" && !word.startsWith("-"))
      .map((word) => word.replace(/(.)@[^@/]*$/, "$1")),
  );
}
