#!/usr/bin/env bash
# scripts/run-tests.sh — start the real services, run the whole pytest suite against them, stop them.
#
# Called by `make test` (and so by CI). The services (slapd, PostgreSQL, OpenSearch; see
# scripts/services.sh) are started on loopback, their addresses exported as GUARDIAN_TEST_*,
# and stopped on exit whatever happens. GUARDIAN_SERVICES (default "all everything"-less "all")
# picks which to start; GUARDIAN_REQUIRE_SERVICES=1 makes integration tests fail, not skip,
# when one is missing; GUARDIAN_KEEP_SERVICES=1 leaves them running afterwards (for a developer
# whose services others are using). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
services="${GUARDIAN_SERVICES:-all}"
started=0
cleanup() {
  if [ "$started" = 1 ] && [ "${GUARDIAN_KEEP_SERVICES:-0}" != 1 ]; then
    # "everything": tests start the 3-node cluster and the spare node themselves when needed
    scripts/services.sh stop everything || true
  fi
}
trap cleanup EXIT
if [ "$services" != "none" ]; then
  started=1
  # shellcheck disable=SC2086
  if ! scripts/services.sh start $services; then
    echo "run-tests: services did not start" >&2
    [ "${GUARDIAN_REQUIRE_SERVICES:-0}" = 1 ] && exit 1
  fi
  eval "$(scripts/services.sh env)"
fi
.venv/bin/pytest -q "$@"
