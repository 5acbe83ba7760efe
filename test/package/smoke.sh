#!/usr/bin/env bash
# Packaging smoke test: install the packed tarball into an empty project, as a user would, and
# use it from JavaScript (smoke.mjs) and from TypeScript (consumer.ts.txt, `tsc --noEmit`); then
# type-check, start and walk the quick starts (examples/quick-start/*.ts: the README's and the
# getting-started pages', kept byte-identical to them by quick-starts.test.ts) with quick-start.mjs.
# The Next.js quick start (examples/quick-start/next, shown by docs/getting-started/next.md) is
# built, started and walked with next-quick-start.mjs.
#
#   npm run test:package        (or: bash test/package/smoke.sh)
#
# It builds dist/ first (npm run build) unless VISITOR_PASS_SMOKE_SKIP_BUILD=1 (set by .ci/run,
# which has just built). The temp project is removed at the end unless VISITOR_PASS_SMOKE_KEEP=1.
# Needs the npm registry (express, express-session, fastify, @fastify/*, hono, @hono/node-server,
# @nestjs/*, next, react, react-dom, better-sqlite3, kysely, typescript, tsx, @types/*); better-sqlite3 is compiled from source on
# install (about a minute).
#
# The database drivers are optional peer dependencies: the tarball is installed first without
# any, to check that none comes along and that each database kind then names the driver to
# install; the smoke project then installs better-sqlite3@12 itself, as an app on SQLite would.
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

step "npm install the tarball + express@5 express-session@1 (no database driver) into an empty project"
mkdir "$work/app"
cd "$work/app"
cat >package.json <<'JSON'
{ "name": "visitor-pass-smoke", "version": "0.0.0", "private": true, "type": "module" }
JSON
npm install --no-audit --no-fund "$tarball" express@5 express-session@1 2>&1 | tee "$work/install.log"
# Node >= 20.19 is supported: nothing visitor-pass brings may refuse it.
if grep -q EBADENGINE "$work/install.log"; then
  echo "ERROR: installing visitor-pass prints EBADENGINE on Node $(node --version)" >&2
  exit 1
fi
for driver in better-sqlite3 pg mysql2; do
  if [ -e "node_modules/$driver" ]; then
    echo "ERROR: installing visitor-pass installed the database driver $driver" >&2
    exit 1
  fi
done
echo "no database driver installed, no EBADENGINE on Node $(node --version)"

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

step "without a driver: each database kind names the package to install"
cp "$here/no-driver.mjs" no-driver.mjs
node no-driver.mjs
set +e
npx --no-install visitor-pass --database sqlite:no-driver.sqlite3 migrate 2>"$work/cli.err"
status=$?
set -e
cat "$work/cli.err"
expected='Invalid visitor-pass option "database" ("sqlite:…"): the SQLite driver is not installed: npm install better-sqlite3@12'
if [ "$status" -eq 0 ] || ! grep -qF "$expected" "$work/cli.err" || [ "$(wc -l <"$work/cli.err")" -ne 1 ]; then
  echo "ERROR: 'visitor-pass migrate' without better-sqlite3 exited $status; expected one line: $expected" >&2
  exit 1
fi
echo "visitor-pass migrate without better-sqlite3: exit status $status, one line naming the driver"

step "npm install better-sqlite3@12 (the driver the rest of the smoke test uses)"
npm install --no-audit --no-fund better-sqlite3@12

step "node smoke.mjs (import visitor-pass and visitor-pass/express, a pass on sqlite::memory:)"
cp "$here/smoke.mjs" smoke.mjs
node smoke.mjs

step "tsc --noEmit on a TypeScript consumer (module NodeNext)"
# One install for this step and the quick starts: the TypeScript tools and the four frameworks.
npm install --no-audit --no-fund typescript@5.9 tsx@4 @types/express@5 @types/express-session@1 \
  @types/node@20 fastify@5 @fastify/cookie@11 @fastify/session@11 hono@4 @hono/node-server@1 \
  @nestjs/common@12 @nestjs/core@12 @nestjs/platform-express@12
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
kysely_version() { node -p 'require("./node_modules/kysely/package.json").version'; }
npx --no-install tsc --noEmit -p tsconfig.json
echo "the shipped types resolve and type-check with kysely $(kysely_version) (NodeNext, strict, skipLibCheck off)"

step "the quick starts: strict type-check, then start and walk each (tsx app.ts)"
quick_start_began=$SECONDS
cp "$repo"/examples/quick-start/*.ts .
# The strictest options a new project gets from `tsc --init`, and the third-party typings
# checked too (skipLibCheck off): what a user pasting a snippet into a fresh project sees.
cat >tsconfig.quick-start.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "exactOptionalPropertyTypes": true,
    "verbatimModuleSyntax": true,
    "isolatedModules": true,
    "noEmit": true,
    "skipLibCheck": false,
    "types": ["node"]
  },
  "files": ["express.ts", "fastify.ts", "hono.ts", "fetch.ts"]
}
JSON
npx --no-install tsc --noEmit -p tsconfig.quick-start.json
echo "express.ts, fastify.ts, hono.ts, fetch.ts type-check (NodeNext, strict, exactOptionalPropertyTypes, skipLibCheck off)"
# The same, with the legacy decorators a Nest project's tsconfig.json sets.
cat >tsconfig.quick-start-nestjs.json <<'JSON'
{
  "extends": "./tsconfig.quick-start.json",
  "compilerOptions": { "experimentalDecorators": true },
  "files": ["nestjs.ts"]
}
JSON
npx --no-install tsc --noEmit -p tsconfig.quick-start-nestjs.json
echo "nestjs.ts type-checks (the same options, and experimentalDecorators)"
cp "$here/quick-start.mjs" quick-start.mjs
node quick-start.mjs express.ts SESSION_SECRET
node quick-start.mjs fastify.ts SESSION_SECRET
node quick-start.mjs hono.ts VISITOR_PASS_SECRET
node quick-start.mjs fetch.ts VISITOR_PASS_SECRET
# tsx compiles a file with the options of the tsconfig that lists it: the decorators need these.
TSX_TSCONFIG_PATH=tsconfig.quick-start-nestjs.json node quick-start.mjs nestjs.ts SESSION_SECRET
echo "the five quick starts: type-checked, started, walked and stopped in $((SECONDS - quick_start_began)) s"

# The recipes' code (docs/recipes/, the same files the repository's tests run against the source)
# type-checks against the package as installed, with the libraries each recipe names.
step "the recipes (examples/recipes/*.ts): strict type-check against the packed package"
npm install --no-audit --no-fund nodemailer@10 @types/nodemailer connect-redis@9 redis@5 \
  connect-pg-simple@10 @types/connect-pg-simple standardwebhooks@1
mkdir recipes
cp "$repo"/examples/recipes/*.ts recipes/
cat >tsconfig.recipes.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true,
    "types": ["node"]
  },
  "include": ["recipes/*.ts"]
}
JSON
npx --no-install tsc --noEmit -p tsconfig.recipes.json
echo "$(ls recipes | wc -l) recipe files type-check against the installed package"

step "the Next.js quick start (examples/quick-start/next): next build, next start, walked"
# In a folder of its own, beside the project's tsconfig.json, with the project's node_modules.
npm install --no-audit --no-fund next@16 react@19 react-dom@19 @types/react@19
mkdir next-app
cp -R "$repo"/examples/quick-start/next/. next-app/
cp "$here/next-quick-start.mjs" next-app/
(cd next-app && node next-quick-start.mjs)

# npm gave visitor-pass Kysely 0.28 above (0.29 declares Node >= 22, and npm picks by engines on
# Node 20). An app on a newer Node, or one that already uses Kysely 0.29, shares its 0.29 with
# visitor-pass: one copy, and the package must work and type-check with it. (npm prints
# EBADENGINE for this one install: the test asks for 0.29 on Node 20 on purpose.)
step "an app's own Kysely 0.29 is shared, and a pass round-trips with it"
npm install --no-audit --no-fund --engine-strict=false kysely@0.29
copies=$(find node_modules -name package.json -path '*node_modules/kysely/package.json' | wc -l)
case "$(kysely_version)" in
  0.29.*) ;;
  *)
    echo "ERROR: the app's kysely is $(kysely_version), expected 0.29" >&2
    exit 1
    ;;
esac
if [ "$copies" -ne 1 ]; then
  echo "ERROR: $copies copies of kysely installed, expected one shared copy:" >&2
  npm ls kysely --all >&2 || true
  exit 1
fi
echo "one copy of kysely, $(kysely_version), shared by the app and visitor-pass"
node smoke.mjs
npx --no-install tsc --noEmit -p tsconfig.json
echo "the shipped types type-check with kysely $(kysely_version)"

echo
echo "smoke: packaging smoke test ok ($(basename "$tarball"))"
