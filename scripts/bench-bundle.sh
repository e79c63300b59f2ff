#!/usr/bin/env bash
# Packs what bench/ needs to run on a host that has no Node.js: the built workspace (dist/ of
# every package and service), the runtime node_modules (without compilers, linters and
# generators), bench/ itself and this machine's node binary, into one xz tarball.
#
#   bash scripts/bench-bundle.sh [OUT]        # default OUT: .cache/bench-bundle.tar.xz
#
# On the other host (same OS and CPU architecture):
#
#   mkdir costtrace && tar -xJf bench-bundle.tar.xz -C costtrace && cd costtrace
#   ./node --expose-gc bench/sdk/span-cost-processor.bench.mjs
#   ./node bench/aggregator/worker-scaling.bench.mjs 300000     # no Kafka or ClickHouse needed
#
# Run `npm run build` first; the script refuses to pack a workspace that has not been built.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.cache/bench-bundle.tar.xz}"
for dist in packages/otel/dist packages/core/dist services/pricing-cache/dist; do
  if [[ ! -d "$dist" ]]; then
    echo "bench-bundle: $dist is missing: run 'npm run build' first" >&2
    exit 1
  fi
done
node_bin="$(command -v node)"
mkdir -p "$(dirname "$out")"
tar -cf - \
  --exclude=node_modules/typescript \
  --exclude='node_modules/@bufbuild/buf*' \
  --exclude=node_modules/@typescript-eslint \
  --exclude='node_modules/eslint*' \
  --exclude=node_modules/prettier \
  --exclude='node_modules/ts-proto*' \
  --exclude=node_modules/@duckdb \
  --exclude='*.map' \
  --exclude='*.d.ts' \
  --exclude='bench/results' \
  node_modules package.json packages/*/package.json packages/*/dist services/*/package.json services/*/dist \
  packages/catalog/catalogs bench \
  -C "$(dirname "$node_bin")" "$(basename "$node_bin")" |
  xz -T2 -3 >"$out"
echo "bench-bundle: wrote $out ($(du -h "$out" | cut -f1)), node $(node --version)"
