# shellcheck shell=bash
# Sourced by .ci/run and .ci/node24.sh (not run on its own): checks that PostgreSQL, MariaDB and
# Redis answer, then exports the URLs the test suite reads. VISITOR_PASS_REQUIRE_SERVICES=1 makes
# the suite fail, not skip, when one of them is missing.
# Needs `node` and the checkout's node_modules (pg, mysql2), so source it after `npm ci`.

ci_check_services() {
  local dir exports
  dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  if ! exports=$(node "$dir/check-services.mjs"); then
    echo "ERROR: a service the tests need is not available (see above)." >&2
    return 1
  fi
  eval "$exports"
  export VISITOR_PASS_REQUIRE_SERVICES=1
  echo "VISITOR_PASS_TEST_POSTGRES_URL=$VISITOR_PASS_TEST_POSTGRES_URL"
  echo "VISITOR_PASS_TEST_MYSQL_URL=$VISITOR_PASS_TEST_MYSQL_URL"
  echo "VISITOR_PASS_TEST_REDIS_URL=$VISITOR_PASS_TEST_REDIS_URL"
  echo "VISITOR_PASS_REQUIRE_SERVICES=$VISITOR_PASS_REQUIRE_SERVICES"
}
