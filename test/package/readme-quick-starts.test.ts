// The README's quick starts are the files in examples/quick-start/, byte for byte: each block
// follows a `<!-- quick-start: <path> -->` marker, and the packaging smoke test (smoke.sh)
// installs, type-checks, starts and walks those files. A snippet edited in one place only fails
// here, and so does a package the snippet imports that its install line does not name.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");
const FILES = ["express", "fastify", "hono", "nestjs"].map(
  (name) => `examples/quick-start/${name}.ts`,
);

interface Block {
  path: string;
  code: string;
  /** The `npm install visitor-pass …` block nearest before the marker. */
  install: string;
}

function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  for (const match of markdown.matchAll(/^<!-- quick-start: (\S+) -->\n```ts\n([\s\S]*?)^```$/gm)) {
    const before = markdown.slice(0, match.index);
    const installs = [...before.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
      .map((m) => m[1] ?? "")
      .filter((text) => /^npm install visitor-pass /m.test(text));
    found.push({ path: match[1] ?? "", code: match[2] ?? "", install: installs.at(-1) ?? "" });
  }
  return found;
}

/** The packages a module imports: `hono/html` is `hono`, `@fastify/session` itself. */
function importedPackages(code: string): string[] {
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

describe("README quick starts", () => {
  const found = blocks(readme);

  it("has one marked block for each file in examples/quick-start/, in order", () => {
    const onDisk = readdirSync(new URL("examples/quick-start/", root))
      .filter((name) => name.endsWith(".ts"))
      .map((name) => `examples/quick-start/${name}`)
      .sort();
    expect(onDisk).toEqual([...FILES].sort());
    expect(found.map((block) => block.path)).toEqual(FILES);
  });

  it.each(FILES)("%s is the README block, byte for byte", (path) => {
    const block = found.find((b) => b.path === path);
    expect(block, `no <!-- quick-start: ${path} --> marker before a ts block`).toBeDefined();
    expect(block?.code).toBe(readFileSync(new URL(path, root), "utf8"));
  });

  it.each(FILES)("%s imports only packages its install line names", (path) => {
    const block = found.find((b) => b.path === path);
    const installed = new Set(
      (block?.install ?? "")
        .split(/\s+/)
        .filter((word) => word !== "" && !word.startsWith("-"))
        .map((word) => word.replace(/(.)@[^@/]*$/, "$1")),
    );
    const imported = importedPackages(readFileSync(new URL(path, root), "utf8"));
    expect(imported.length).toBeGreaterThan(1);
    expect(imported.filter((name) => !installed.has(name))).toEqual([]);
  });
});
