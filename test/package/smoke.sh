#!/usr/bin/env bash
# Packaging smoke test: install the packed tarball into an empty project, as a user would, and
# use it from JavaScript (smoke.mjs) and from TypeScript (consumer.ts.txt, `tsc --noEmit`).
#
#   npm run test:package        (or: bash test/package/smoke.sh)
#
# It builds dist/ first (npm run build) unless VISITOR_PASS_SMOKE_SKIP_BUILD=1 (set by .ci/run,
# which has just built). The temp project is removed at the end unless VISITOR_PASS_SMOKE_KEEP=1.
# Needs the npm registry (express, express-session, typescript, @types/*); better-sqlite3 is
# compiled from source on install (about a minute).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/visitor-pass-smoke.XXXXXX")
cleanup() {
  if [ "${VISITOR_PASS_SMOKE_KEEP:-}" = 1 ]; then
    echo "smoke: temp project kept at $work/app"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
step() { printf '\n---- smoke: %s ----\n' "$*"; }

cd "$repo"
if [ "${VISITOR_PASS_SMOKE_SKIP_BUILD:-}" != 1 ]; then
  step "npm run build"
  npm run build
fi
if [ ! -f dist/index.js ]; then
  echo "ERROR: dist/index.js is missing: run 'npm run build' first" >&2
  exit 1
fi

step "npm pack"
npm pack --json --pack-destination "$work" >"$work/pack.json"
node "$here/check-pack.mjs" "$work/pack.json"
tarball="$work/$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0].filename' "$work/pack.json")"

step "npm install the tarball + express@5 express-session@1 into an empty project"
mkdir "$work/app"
cd "$work/app"
cat >package.json <<'JSON'
{ "name": "visitor-pass-smoke", "version": "0.0.0", "private": true, "type": "module" }
JSON
npm install --no-audit --no-fund "$tarball" express@5 express-session@1

# None of the library's devDependencies may come along because of visitor-pass itself. One that
# another package asks for (mysql2 peers on @types/node) or that the user installed (express) is
# fine; one that only visitor-pass brings in (a dependency or required peer) is a leak.
npm ls --all --json >"$work/ls.json" || true
node --input-type=module - "$repo/package.json" "$work/ls.json" <<'JS'
import { readFileSync } from "node:fs";
const dev = Object.keys(JSON.parse(readFileSync(process.argv[2], "utf8")).devDependencies ?? {});
const tree = JSON.parse(readFileSync(process.argv[3], "utf8"));
const parents = new Map();
(function walk(node, name) {
  for (const [child, info] of Object.entries(node.dependencies ?? {})) {
    if (!info.version) continue; // an optional peer that is not installed
    if (!parents.has(child)) parents.set(child, new Set());
    parents.get(child).add(name);
    walk(info, child);
  }
})(tree, "(the smoke project)");
const present = dev.filter((name) => parents.has(name));
const leaked = present.filter((name) => [...parents.get(name)].every((p) => p === "visitor-pass"));
for (const name of present.filter((n) => !leaked.includes(n))) {
  console.log(`devDependency ${name} is installed, required by: ${[...parents.get(name)].join(", ")}`);
}
if (leaked.length > 0) {
  console.error(`ERROR: visitor-pass alone pulls in its devDependencies: ${leaked.join(", ")}`);
  process.exit(1);
}
console.log(`visitor-pass pulls in none of its ${dev.length} devDependencies`);
JS

# Every command in package.json "bin" is linked into node_modules/.bin and starts with a shebang.
node --input-type=module - <<'JS'
import { accessSync, constants, readFileSync } from "node:fs";
const pkg = JSON.parse(readFileSync("node_modules/visitor-pass/package.json", "utf8"));
const bins = typeof pkg.bin === "string" ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {});
for (const [name, target] of Object.entries(bins)) {
  accessSync(`node_modules/.bin/${name}`, constants.X_OK);
  const head = readFileSync(`node_modules/visitor-pass/${target}`, "utf8").slice(0, 2);
  if (head !== "#!") throw new Error(`bin ${name} (${target}) has no shebang line`);
  console.log(`bin ${name} -> ${target}: linked, executable, has a shebang`);
}
JS

step "node smoke.mjs (import visitor-pass and visitor-pass/express, a pass on sqlite::memory:)"
cp "$here/smoke.mjs" smoke.mjs
node smoke.mjs

step "tsc --noEmit on a TypeScript consumer (module NodeNext)"
npm install --no-audit --no-fund typescript@5.9 @types/express@5 @types/express-session@1 @types/node@20
cp "$here/consumer.ts.txt" consumer.ts
cat >tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": false,
    "types": ["node"]
  },
  "files": ["consumer.ts"]
}
JSON
npx --no-install tsc --version
npx --no-install tsc --noEmit -p tsconfig.json
echo "the shipped types resolve and type-check (NodeNext, strict, skipLibCheck off)"

echo
echo "smoke: packaging smoke test ok ($(basename "$tarball"))"
