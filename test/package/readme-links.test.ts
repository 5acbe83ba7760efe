// The README links into the documentation site by absolute URLs (the npm page resolves relative
// ones against the tarball, check-pack.mjs insists), which the site's own dead-link check never
// sees: each must name a page that docs/ builds, and each repository link a file that exists.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ROOT, readRepo } from "../support/markdown-blocks.js";

const SITE = "https://visitor-pass.github.io/visitor-pass/";
const REPOSITORY = /^https:\/\/github\.com\/visitor-pass\/visitor-pass\/(?:blob|tree)\/main\/(.+)$/;
const links = [...readRepo("README.md").matchAll(/\]\((https:[^)\s]+)\)/g)].map((m) => m[1]!);

/** The markdown page of docs/ that serves `path` (cleanUrls: `a/b` is a/b.md, `a/` a/index.md). */
function pageOf(path: string): string | null {
  const bare = path.replace(/#.*$/, "");
  if (bare === "" || bare === "api/") return bare === "" ? "docs/index.md" : "docs/api"; // TypeDoc's
  const candidates = bare.endsWith("/") ? [`docs/${bare}index.md`] : [`docs/${bare}.md`];
  return candidates.find((file) => existsSync(new URL(file, ROOT))) ?? null;
}

describe("README links", () => {
  it("point into the site at pages that exist", () => {
    const site = links.filter((link) => link.startsWith(SITE));
    expect(site.length).toBeGreaterThan(10);
    const dead = site.filter((link) => pageOf(link.slice(SITE.length)) === null);
    expect(dead).toEqual([]);
  });

  it("point into the repository at files that exist", () => {
    const dead = links
      .map((link) => REPOSITORY.exec(link)?.[1])
      .filter((path) => path !== undefined && !existsSync(new URL(path, ROOT)));
    expect(dead).toEqual([]);
  });
});
