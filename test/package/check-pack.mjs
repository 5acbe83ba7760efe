// Checks the file list of `npm pack --json` (path given as the only argument): every file that
// package.json points at (exports, main, types, bin) is in the tarball, and nothing that should
// stay in the repository (sources, tests, source maps, CI, examples) is; and the packed README
// links to no file the tarball lacks (on the npm page a relative link resolves against the
// tarball, so it must be absolute: https://github.com/visitor-pass/visitor-pass/blob/main/...).
import { readFileSync } from "node:fs";

const [report] = JSON.parse(readFileSync(process.argv[2], "utf8"));
const files = new Set(report.files.map((f) => f.path));
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
const problems = [];

function targets(value) {
  if (typeof value === "string") return [value];
  if (value && typeof value === "object") return Object.values(value).flatMap(targets);
  return [];
}

const pointedAt = [
  ...targets(pkg.exports),
  ...targets(pkg.main),
  ...targets(pkg.types),
  ...targets(pkg.bin),
].map((p) => p.replace(/^\.\//, ""));
for (const path of new Set(pointedAt)) {
  if (path.includes("*")) continue;
  if (!files.has(path))
    problems.push(`package.json points at ${path}, which is not in the tarball`);
}

const unwanted = [/^src\//, /^test\//, /^examples\//, /^\.ci\//, /\.test\.[cm]?[jt]s$/, /\.map$/];
for (const path of files) {
  if (unwanted.some((re) => re.test(path))) problems.push(`${path} should not be published`);
}

// Markdown links [text](target "title"), reference definitions [label]: target, and HTML
// href/src attributes, outside fenced code blocks and code spans.
function readmeLinks(markdown) {
  const prose = markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "")
    .replace(/`[^`\n]*`/g, "");
  const links = [];
  for (const [, target] of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g))
    links.push(target);
  for (const [, target] of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm))
    links.push(target);
  for (const [, , target] of prose.matchAll(/\b(href|src)\s*=\s*["']([^"']+)["']/gi))
    links.push(target);
  return links;
}

const readme = report.files.find((f) => /^readme(\.md|\.markdown)?$/i.test(f.path));
if (!readme) problems.push("the tarball has no README");
else {
  const text = readFileSync(new URL(`../../${readme.path}`, import.meta.url), "utf8");
  for (const link of new Set(readmeLinks(text))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith("#") || link.startsWith("//"))
      continue;
    const path = decodeURIComponent(link.replace(/[?#].*$/, ""))
      .replace(/^\.\//, "")
      .replace(/\/$/, "");
    const inTarball = files.has(path) || [...files].some((f) => f.startsWith(`${path}/`));
    if (!inTarball) {
      problems.push(
        `${readme.path} links to ${link}, which is not in the tarball: link to https://github.com/visitor-pass/visitor-pass/blob/main/${path} instead`,
      );
    }
  }
}

console.log(
  `${report.filename}: ${report.entryCount} files, ${report.size} bytes packed, ${report.unpackedSize} unpacked`,
);
if (problems.length > 0) {
  for (const p of problems) console.error(`PACK PROBLEM: ${p}`);
  process.exit(1);
}
console.log(
  "tarball contents ok: every exports/main/types/bin target is present, no sources or tests, the README links to no missing file",
);
