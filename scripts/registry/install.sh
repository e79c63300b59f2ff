#!/usr/bin/env bash
# Installs (once) the pinned local npm registry, verdaccio (scripts/registry/package-lock.json),
# with `npm ci` into .cache/registry/<lockfile hash>/, retried, npm's cache under .cache/npm.
# Prints verdaccio's entry script (verdaccio 6 needs Node >= 22: run it with
# `scripts/node-runtime.sh 22`). Used by the published-packages test, which writes its config
# (storage in a temporary directory, costtrace's packages published locally, everything else
# proxied to the registry npm is configured with) and starts it on a free loopback port.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="$ROOT/scripts/registry"
CACHE="${COSTTRACE_CACHE_DIR:-$ROOT/.cache}"
HASH="$(cat "$SRC/package.json" "$SRC/package-lock.json" "$SRC/.npmrc" | sha256sum | cut -c1-16)"
DIR="$CACHE/registry/$HASH"
BIN="$DIR/node_modules/verdaccio/bin/verdaccio"
if [[ -f "$DIR/.installed" && -f "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi
mkdir -p "$DIR"
cp "$SRC/package.json" "$SRC/package-lock.json" "$SRC/.npmrc" "$DIR/"
for attempt in 1 2 3; do
  if (cd "$DIR" && npm ci --no-audit --no-fund --engine-strict=false --cache "$CACHE/npm" --loglevel=error >&2) && [[ -f "$BIN" ]]; then
    touch "$DIR/.installed"
    echo "$BIN"
    exit 0
  fi
  printf '[registry] npm ci failed (attempt %s of 3)\n' "$attempt" >&2
  sleep $((attempt * 5))
done
exit 1
