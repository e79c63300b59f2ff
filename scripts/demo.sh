#!/usr/bin/env bash
# README command one: installs, builds and runs `costtrace dev`, all of costtrace in one process
# with no Kafka and no ClickHouse (in-process bus, DuckDB under ./.costtrace/). Ctrl-C stops it;
# the data stays. Extra arguments go to `costtrace dev` (e.g. --rps 50 --data-dir /tmp/ct).
# The demo on real Kafka and ClickHouse is scripts/demo-services.sh (`npm run demo:services`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npm run build >/dev/null
exec node packages/cli/dist/src/bin.js dev "$@"
