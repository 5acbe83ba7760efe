// The recipes' code on docs/recipes/*.md is the files in examples/recipes/, byte for byte: each
// block follows a `<!-- example: <path> -->` marker, and the tests beside this one run those
// files. Every file is shown on a page, every page is in the site's sidebar, and every package a
// file imports is one the reader has been told to install (or visitor-pass and what the
// getting-started page installs).
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  importedPackages,
  installedPackages,
  markedBlocks,
  ROOT,
  readRepo,
  strayMarkers,
} from "../support/markdown-blocks.js";

const PAGES = readdirSync(new URL("docs/recipes/", ROOT))
  .filter((name) => name.endsWith(".md"))
  .sort()
  .map((name) => `docs/recipes/${name}`);
const FILES = readdirSync(new URL("examples/recipes/", ROOT))
  .filter((name) => name.endsWith(".ts"))
  .sort()
  .map((name) => `examples/recipes/${name}`);
const blocks = PAGES.flatMap((page) =>
  markedBlocks(readRepo(page), "example").map((block) => ({ page, ...block })),
);

/** What the Express getting-started page installs, and the packages every app has. */
const BASE = new Set(["visitor-pass", "express", "express-session", "hono", "@hono/node-server"]);

describe("recipe pages", () => {
  it("show every file in examples/recipes/, once", () => {
    expect(blocks.map((block) => block.path).sort()).toEqual(FILES);
  });

  it.each(FILES)("%s is its page's block, byte for byte", (path) => {
    const block = blocks.find((b) => b.path === path);
    expect(block?.code, `${block?.page} shows ${path}`).toBe(readRepo(path));
  });

  it.each(PAGES)("%s has no marker without its block, and is in the sidebar", (page) => {
    expect(strayMarkers(readRepo(page), "example")).toEqual([]);
    const link = `/${page
      .replace(/^docs\//, "")
      .replace(/index\.md$/, "")
      .replace(/\.md$/, "")}`;
    expect(readRepo("docs/.vitepress/config.mts")).toContain(`link: "${link}"`);
  });

  it.each(FILES)("%s imports only packages its page says to install", (path) => {
    const block = blocks.find((b) => b.path === path);
    const page = readRepo(block!.page);
    const installs = [...page.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) => [
      ...installedPackages((m[1] ?? "").replace(/#.*$/gm, "")),
    ]);
    const missing = importedPackages(readRepo(path)).filter(
      (name) => !BASE.has(name) && !installs.includes(name),
    );
    expect(missing).toEqual([]);
  });
});
