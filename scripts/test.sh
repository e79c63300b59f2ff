#!/usr/bin/env bash
# The whole test suite on a fresh machine: install, build, lint, type check, start Kafka and
# ClickHouse (scripts/services.sh), run unit and integration tests, stop what it started.
#   scripts/test.sh            everything
#   scripts/test.sh unit       unit tests only (no services)
# Set KAFKA_BROKERS / CLICKHOUSE_URL to use services you run yourself (e.g. docker compose up).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MODE="${1:-all}"

step() { printf '\n=== %s\n' "$*"; }
retry() {
  local n=$1 i=1
  shift
  until "$@"; do
    if ((i >= n)); then return 1; fi
    echo "attempt $i of $n failed: $*; retrying in $((i * 10)) s" >&2
    sleep $((i * 10))
    i=$((i + 1))
  done
}

step "install (npm ci)"
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  retry 3 npm ci --no-audit --no-fund
fi

step "build (generate protobuf code, tsc -b)"
npm run build

step "lint and format check"
npm run lint

step "docs check (links, configuration reference, runnable blocks; no services)"
node scripts/check-docs.mjs

started_services=0
cleanup() {
  if ((started_services)); then
    bash scripts/services.sh down >.cache/services-down.log 2>&1 || true
  fi
  if [[ -f .cache/test-results/summary.txt ]]; then
    echo
    cat .cache/test-results/summary.txt
  fi
}
trap cleanup EXIT

if [[ "$MODE" != unit ]]; then
  step "services (Kafka, ClickHouse)"
  if [[ -z "${KAFKA_BROKERS:-}" || -z "${CLICKHOUSE_URL:-}" ]] && bash scripts/services.sh status | grep -q stopped; then
    started_services=1
  fi
  bash scripts/services.sh up
fi

step "tests ($MODE)"
rm -f .cache/test-results/summary.txt
node scripts/run-tests.mjs "$MODE"
