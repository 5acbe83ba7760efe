// Checks the file list of `npm pack --json` (path given as the only argument): every file that
// package.json points at (exports, main, types, bin) is in the tarball, and nothing that should
// stay in the repository (sources, tests, source maps, CI, examples) is.
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

console.log(
  `${report.filename}: ${report.entryCount} files, ${report.size} bytes packed, ${report.unpackedSize} unpacked`,
);
if (problems.length > 0) {
  for (const p of problems) console.error(`PACK PROBLEM: ${p}`);
  process.exit(1);
}
console.log(
  "tarball contents ok: every exports/main/types/bin target is present, no sources or tests",
);
