#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the browser test of the admin pages
# (test/admin/browser.test.ts), installing it with apt-get when it is missing. Run it as root
# before the tests, then run them with VISITOR_PASS_REQUIRE_BROWSER=1 so that a missing browser
# fails the run instead of skipping the test:
#
#   bash .ci/browser.sh && VISITOR_PASS_REQUIRE_BROWSER=1 npm test
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo present) at $CHROMIUM"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing at $CHROMIUM and apt-get is not available to install it" >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "installing chromium needs root (or sudo)" >&2
    exit 1
  fi
fi

echo "chromium is missing: installing it with apt-get"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Fonts too: without them screenshots show no text.
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation fonts-dejavu-core >/dev/null

if [ ! -x "$CHROMIUM" ]; then
  echo "apt-get installed chromium, but $CHROMIUM is still missing" >&2
  exit 1
fi
echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo installed) at $CHROMIUM"
