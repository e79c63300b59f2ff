#!/usr/bin/env bash
# The Kafka/ClickHouse demo (`npm run demo:services`). Installs, builds and runs the skeleton demo: an instrumented service sends
# priced spans through the aggregator (OTLP → Kafka → ClickHouse) and the cost per commit and
# route is printed. Starts local Kafka and ClickHouse with scripts/services.sh unless
# KAFKA_BROKERS / CLICKHOUSE_URL are set; stop them afterwards with `scripts/services.sh down`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npm run build >/dev/null
bash scripts/services.sh up
eval "$(bash scripts/services.sh env)"
exec node services/aggregator/dist/src/demo/skeleton-demo.js
