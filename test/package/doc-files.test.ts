// A file a documentation page shows in full is that file, byte for byte: each such block follows
// a `<!-- file: <path> -->` marker. A file edited in one place only fails here.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const PAGES = readdirSync(new URL("docs/getting-started/", root))
  .filter((name) => name.endsWith(".md"))
  .map((name) => `docs/getting-started/${name}`);

/** The files the SvelteKit page must show: the whole adapter, its types and a final step. */
const SVELTEKIT = [
  "examples/sveltekit/src/hooks.server.ts",
  "examples/sveltekit/src/app.d.ts",
  "examples/sveltekit/src/routes/reference/+page.server.ts",
];

function blocks(page: string): { path: string; code: string }[] {
  const markdown = readFileSync(new URL(page, root), "utf8");
  return [...markdown.matchAll(/^<!-- file: (\S+) -->\n```\w+\n([\s\S]*?)^```$/gm)].map(
    (match) => ({ path: match[1] ?? "", code: match[2] ?? "" }),
  );
}

const shown = PAGES.flatMap((page) => blocks(page).map((block) => ({ page, ...block })));

describe("files shown in the docs", () => {
  it("the SvelteKit page shows the example's hook file, its types and its final step", () => {
    expect(blocks("docs/getting-started/sveltekit.md").map((block) => block.path)).toEqual(
      SVELTEKIT,
    );
  });

  it.each(shown.map((block) => [`${block.page}: ${block.path}`, block] as const))(
    "%s is the file, byte for byte",
    (_name, block) => {
      expect(block.code).toBe(readFileSync(new URL(block.path, root), "utf8"));
    },
  );
});
