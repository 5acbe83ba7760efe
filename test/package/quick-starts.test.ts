// The quick starts are the files in examples/quick-start/, byte for byte: the README shows the
// Express one, and docs/getting-started/<name>.md shows examples/quick-start/<name>.ts, each
// block following a `<!-- quick-start: <path> -->` marker. The packaging smoke test (smoke.sh)
// installs, type-checks, starts and walks those files. A snippet edited in one place only fails
// here, and so does a package the snippet imports that its page's install line does not name.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  importedPackages,
  installedPackages,
  type MarkedBlock,
  markedBlocks,
  ROOT,
  readRepo,
  strayMarkers,
} from "../support/markdown-blocks.js";

const README_QUICK_START = "examples/quick-start/express.ts";
const FILES = readdirSync(new URL("examples/quick-start/", ROOT))
  .filter((name) => name.endsWith(".ts"))
  .sort()
  .map((name) => `examples/quick-start/${name}`);
/** docs/getting-started/express.md for examples/quick-start/express.ts. */
const pageOf = (path: string) =>
  path.replace(/^examples\/quick-start\/(.*)\.ts$/, "docs/getting-started/$1.md");

function check(where: string, block: MarkedBlock | undefined, path: string): void {
  expect(
    block,
    `${where}: no <!-- quick-start: ${path} --> marker before a ts block`,
  ).toBeDefined();
  expect(block?.code, `${where} shows ${path}, byte for byte`).toBe(readRepo(path));
  const installed = installedPackages(block?.install ?? "");
  const imported = importedPackages(readRepo(path));
  expect(imported.length).toBeGreaterThan(1);
  expect(
    imported.filter((name) => !installed.has(name)),
    `packages ${path} imports that the install line before it in ${where} does not name`,
  ).toEqual([]);
}

describe("quick starts", () => {
  it("the README shows exactly one, the Express one", () => {
    const readme = readRepo("README.md");
    const blocks = markedBlocks(readme, "quick-start");
    expect(blocks.map((block) => block.path)).toEqual([README_QUICK_START]);
    expect(strayMarkers(readme, "quick-start")).toEqual([]);
    check("README.md", blocks[0], README_QUICK_START);
  });

  it("there is one for each framework the getting-started pages have", () => {
    expect(FILES).toContain(README_QUICK_START);
    expect(FILES.length).toBeGreaterThanOrEqual(3);
  });

  it.each(FILES)("%s is its getting-started page's block, byte for byte", (path) => {
    const page = pageOf(path);
    const markdown = readRepo(page);
    const blocks = markedBlocks(markdown, "quick-start");
    expect(strayMarkers(markdown, "quick-start")).toEqual([]);
    expect(blocks.map((block) => block.path)).toEqual([path]);
    check(page, blocks[0], path);
  });
});
